/// Which Binance futures venue an account lives on. The raw value is the spelling users write
/// (the per-account `venue:` config key) and the `venue` label value, so it never changes
/// once released.
public enum VenueID: String, Sendable, Hashable, CaseIterable {
    /// USDⓈ-M futures: ws-fapi, fstream, fapi REST.
    case usdM = "usd-m"
    /// COIN-M futures: ws-dapi, dstream, dapi REST; margined per coin, sized in contracts.
    case coinM = "coin-m"
    /// Portfolio Margin: papi REST (no WebSocket API), the PM user stream; one account over
    /// USDⓈ-M, COIN-M and cross margin with one risk number, uniMMR.
    case portfolioMargin = "portfolio-margin"

    /// The venue's facts.
    public var venue: FuturesVenue {
        switch self {
        case .usdM: .usdM
        case .coinM: .coinM
        case .portfolioMargin: .portfolioMargin
        }
    }
}
