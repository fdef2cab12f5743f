import ArgumentParser
import ServiceLifecycle
import Synchronization
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM and SIGINT from the first statement of `main`. `ServiceGroup` traps them only once it
/// runs; before that (config parsing, binding, demo start-up) their default action ended the
/// process by signal, so an orchestrator that stops a just-started exporter saw a crash instead
/// of exit 0.
///
/// Two steps, with no gap between them: `EarlyTermination.install()` puts a handler in place
/// that only records the request (async-signal-safe: one atomic store); `ShutdownLatch.trap()`
/// then registers Dispatch signal sources (libdispatch replaces that handler with its own) and
/// picks up a request recorded before. The latch hands the request to the `ServiceGroup` as soon
/// as it exists (`triggerGracefulShutdown()` before `run()` is remembered by the group).
enum EarlyTermination {
    static let requested = Atomic<Bool>(false)

    static func install() {
        _ = requested.load(ordering: .relaxed)  // initialised before any handler can run
        for signo in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in EarlyTermination.requested.store(true, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signo, &action, nil)
        }
    }

    /// Subcommands other than `serve` keep the default actions.
    static func restoreDefaults() {
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        if requested.load(ordering: .relaxed) { raise(SIGTERM) }
    }
}

actor ShutdownLatch {
    private var group: ServiceGroup?
    private(set) var requested = false

    /// Registers the signal sources; a request recorded before is passed on. The returned task
    /// forwards later signals and ends with the process.
    func trap() async -> Task<Void, Never> {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let forwarding = Task { for await _ in signals { await self.request() } }
        if EarlyTermination.requested.load(ordering: .relaxed) { await request() }
        return forwarding
    }

    func request() async {
        requested = true
        await group?.triggerGracefulShutdown()
    }

    /// The group that owns shutdown from now on; a request that came earlier is passed on.
    func attach(_ group: ServiceGroup) async {
        self.group = group
        if requested { await group.triggerGracefulShutdown() }
    }
}

extension ExporterCommand {
    /// Like `AsyncParsableCommand.main()`, but `serve` traps SIGTERM/SIGINT before it does
    /// anything else.
    static func main() async {
        EarlyTermination.install()
        do {
            var command = try parseAsRoot()
            if var serve = command as? Serve {
                serve.latch = ShutdownLatch()
                let forwarding = await serve.latch.trap()
                defer { forwarding.cancel() }
                try await serve.run()
            } else if var asyncCommand = command as? any AsyncParsableCommand {
                EarlyTermination.restoreDefaults()
                try await asyncCommand.run()
            } else {
                EarlyTermination.restoreDefaults()
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
