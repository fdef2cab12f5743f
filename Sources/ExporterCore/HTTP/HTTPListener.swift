import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The `/metrics` listener: NIO's HTTP/1.1 request decoder plus one small handler that writes
/// responses as prepared bytes. Keep-alive, pipelining, HTTP/1.0, limits, timeouts and auth are
/// `ExporterHTTPHandler`'s.
public final class HTTPListener: Service, Sendable {
    let configuration: HTTPListenerConfiguration
    let cache: ScrapeCache
    let logger: Logger
    let group: any EventLoopGroup
    let shared: ListenerShared
    private let channels = NIOLockedValueBox<[any Channel]>([])

    public init(
        configuration: HTTPListenerConfiguration, cache: ScrapeCache, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.cache = cache
        self.logger = logger
        self.group = group
        self.shared = ListenerShared(
            configuration: configuration, cache: cache, authenticator: BasicAuthenticator(users: configuration.basicAuthUsers))
    }

    /// Binds every address; fails with one clear error if any cannot be bound.
    @discardableResult
    public func bind() async throws -> [Int] {
        var ports: [Int] = []
        for address in configuration.listenAddresses {
            let (host, port) = try parseListenAddress(address)
            let shared = self.shared
            do {
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 256)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .childChannelOption(.maxMessagesPerRead, value: 4)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            guard shared.connectionOpened() else {
                                throw ListenerError(address: address, reason: "too many connections")
                            }
                            shared.track(channel)
                            if let size = shared.configuration.socketSendBuffer {
                                try channel.syncOptions?.setOption(.socketOption(.so_sndbuf), value: SocketOptionValue(size))
                            }
                            if let tls = shared.tls {
                                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                            }
                            try shared.configurePipeline(channel.pipeline.syncOperations)
                        }
                    }
                    .bind(host: host, port: port)
                    .get()
                channels.withLockedValue { $0.append(channel) }
                let boundPort = channel.localAddress?.port ?? port
                ports.append(boundPort)
                logger.info("listening", metadata: ["address": "\(host):\(boundPort)", "tls": "\(configuration.tls != nil)"])
            } catch {
                await close()
                throw ListenerError(address: address, reason: "\(error)")
            }
        }
        return ports
    }

    /// Adds this listener's HTTP handlers (request decoder and scrape handler, no TLS) to a
    /// channel: for serving the endpoint from another NIO server, and for the scrape benchmark,
    /// which drives them in memory.
    public func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try shared.configurePipeline(pipeline)
    }

    /// Swaps TLS context, basic-auth users and response headers (SIGHUP). New connections use
    /// the new TLS context; every request from now on is checked against the new users.
    public func updateSecurity(
        tls: NIOSSLContext?, basicAuthUsers: BasicAuthUsers, responseHeaders: [(name: String, value: String)] = []
    ) {
        shared.updateSecurity(
            tls: tls, authenticator: BasicAuthenticator(users: basicAuthUsers), responseHeaders: responseHeaders)
    }

    public func close() async {
        for channel in channels.withLockedValue({ value -> [any Channel] in
            defer { value = [] }
            return value
        }) {
            try? await channel.close()
        }
    }

    /// Binds if needed, serves until graceful shutdown, then drains.
    public func run() async throws {
        if channels.withLockedValue({ $0.isEmpty }) { try await bind() }
        try? await gracefulShutdown()
        await drain(timeout: configuration.drainTimeout)
    }

    /// Stops accepting, asks every connection to drain (idle keep-alive connections close at
    /// once; a response being written is finished to its last byte first), and waits for them
    /// up to `timeout`; whatever is left then is closed.
    public func drain(timeout: Duration) async {
        await close()
        for child in shared.openChannels {
            child.eventLoop.execute { child.pipeline.fireUserInboundEventTriggered(DrainEvent()) }
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !shared.openChannels.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for child in shared.openChannels { try? await child.close() }
    }
}

/// State shared by every connection of one listener.
final class ListenerShared: Sendable {
    let configuration: HTTPListenerConfiguration
    let cache: ScrapeCache
    let negotiation = NegotiationCache()
    private let security:
        NIOLockedValueBox<(tls: NIOSSLContext?, authenticator: BasicAuthenticator, headers: [(name: String, value: String)])>
    private let counters = NIOLockedValueBox((connections: 0, inFlight: 0))

    init(configuration: HTTPListenerConfiguration, cache: ScrapeCache, authenticator: BasicAuthenticator) {
        self.configuration = configuration
        self.cache = cache
        self.security = NIOLockedValueBox((configuration.tls, authenticator, configuration.responseHeaders))
    }

    /// A connection's handlers after TLS: the request decoder and our handler (see its doc).
    func configurePipeline(_ pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        try pipeline.addHandler(ExporterHTTPHandler(shared: self))
    }

    var tls: NIOSSLContext? { security.withLockedValue { $0.tls } }
    var authenticator: BasicAuthenticator { security.withLockedValue { $0.authenticator } }
    var responseHeaders: [(name: String, value: String)] { security.withLockedValue { $0.headers } }

    func updateSecurity(tls: NIOSSLContext?, authenticator: BasicAuthenticator, responseHeaders: [(name: String, value: String)]) {
        security.withLockedValue { $0 = (tls, authenticator, responseHeaders) }
    }

    func connectionOpened() -> Bool {
        counters.withLockedValue { c in
            guard c.connections < configuration.maxConnections else { return false }
            c.connections += 1
            return true
        }
    }

    private let children = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    /// Remembers an accepted connection until it closes (for draining on shutdown).
    func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        children.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in
            self.children.withLockedValue { _ = $0.removeValue(forKey: id) }
            self.counters.withLockedValue { $0.connections -= 1 }
        }
    }

    var openChannels: [any Channel] { children.withLockedValue { Array($0.values) } }

    func acquireRequestSlot() -> Bool {
        counters.withLockedValue { c in
            guard c.inFlight < configuration.maxRequests else { return false }
            c.inFlight += 1
            return true
        }
    }

    func releaseRequestSlot() { counters.withLockedValue { $0.inFlight -= 1 } }
}
