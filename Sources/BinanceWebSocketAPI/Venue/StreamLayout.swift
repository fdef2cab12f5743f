/// How a stream host expects its connections: the URL scheme differs between Binance's hosts,
/// and it decides whether one connection can carry many listen keys.
public enum StreamLayout: Sendable, Hashable {
    /// One connection at `<base>/stream` carries any number of streams, added and removed with
    /// `SUBSCRIBE`/`UNSUBSCRIBE`; frames are combined (`{"stream": …, "data": …}`). fstream's
    /// `/private` and `/market` since Binance's 2026 URL change.
    case combined
    /// One connection per listen key at `<base>/ws/<listenKey>`, raw frames (dstream, the PM
    /// user stream).
    case perListenKey

    /// The connection URL under `base` (e.g. `wss://fstream.binance.com/private`): any query is
    /// dropped, trailing slashes are trimmed, and the layout's path is appended unless `base`
    /// already ends with it. `listenKey` is used by `.perListenKey` only; such a URL holds a
    /// secret and must not be logged.
    public func url(base: WebSocketURL, listenKey: String? = nil) -> WebSocketURL {
        var url = base
        var path = url.pathAndQuery
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        while path.hasSuffix("/") { path.removeLast() }
        switch self {
        case .combined:
            if !path.hasSuffix("/stream") { path += "/stream" }
        case .perListenKey:
            path += "/ws/" + (listenKey ?? "")
        }
        url.pathAndQuery = path
        return url
    }
}
