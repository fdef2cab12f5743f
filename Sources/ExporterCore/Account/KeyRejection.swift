import BinanceWebSocketAPI

/// What a −2015 / 401 most likely means, by the venue the account is configured for. Binance
/// answers a key used on the wrong product exactly as it answers a revoked one, so the one log
/// line (and `check-config`) must name the venue and the mix-up that looks like a dead key.
public enum KeyRejection {
    /// One sentence for the log line and `check-config`: what to check first for an account on `venue`.
    public static func likelyCauses(venue: VenueID) -> String {
        switch venue {
        case .portfolioMargin:
            "the account is not a Portfolio Margin account (set venue: usd-m or coin-m), or the key was created before Portfolio Margin was activated on it (create a new key), or the key was revoked, mistyped or IP-restricted"
        case .usdM, .coinM:
            "the key was revoked, mistyped or IP-restricted, lacks futures reading, or the account is a Portfolio Margin account (set venue: portfolio-margin: a PM key is refused by fapi, dapi and the WebSocket APIs)"
        }
    }
}
