/// Everything that makes one Binance futures venue different from another: its URLs
/// (production and testnet), its WebSocket API methods and their weights, its REST paths and
/// weights, how its symbols name their margin asset, the income types and user-stream events it
/// documents, and its mark price stream. The client and the exporter read these facts from here
/// instead of spelling them, so a second venue is a new value (plus its decoders), not a search
/// through the code base for literals. The USDⓈ-M value is `FuturesVenue.usdM`
/// (`FuturesVenue+USDM.swift`, the one file that states its facts).
public struct FuturesVenue: Sendable, Hashable {
    public var id: VenueID
    /// The WebSocket API the exporter polls; nil for a venue without one (Portfolio Margin is
    /// REST only).
    public var webSocketAPI: WebSocketAPI?
    /// Where the account's events come from (listen keys, event names).
    public var userStream: UserStream
    /// Where the public mark prices come from.
    public var marketStream: MarketStream
    /// The signed REST calls the WebSocket API lacks (income ledger, leverage brackets).
    public var rest: REST
    /// Which asset a symbol's margin and PnL are in.
    public var marginAssets: MarginAssetRule
    /// The income types the exporter counts on this venue.
    public var incomeKinds: [IncomeKind]
    /// papi's account reads; nil except on Portfolio Margin, which has no WebSocket API.
    public var portfolioMarginAPI: PortfolioMarginAPI?

    public init(
        id: VenueID, webSocketAPI: WebSocketAPI?, userStream: UserStream, marketStream: MarketStream, rest: REST,
        marginAssets: MarginAssetRule, incomeKinds: [IncomeKind], portfolioMarginAPI: PortfolioMarginAPI? = nil
    ) {
        self.portfolioMarginAPI = portfolioMarginAPI
        self.id = id
        self.webSocketAPI = webSocketAPI
        self.userStream = userStream
        self.marketStream = marketStream
        self.rest = rest
        self.marginAssets = marginAssets
        self.incomeKinds = incomeKinds
    }

    /// The asset a position in `symbol` is margined in (and its PnL settled in).
    public func marginAsset(of symbol: String) -> String { marginAssets.marginAsset(of: symbol) }

    /// Positions are counted in contracts of a fixed USD value (COIN-M), not in the base asset.
    /// A Portfolio Margin account holds both kinds: its CM legs say so themselves
    /// (`PositionDetail.inContracts`).
    public var sizesInContracts: Bool { id == .coinM }

    /// The stream and the mark prices keep the values current between polls (positions, PnL,
    /// margins, income), so polls may become reconciliations. Not so on Portfolio Margin yet:
    /// there the stream moves uniMMR and the status (`riskLevelChange`), and the rest comes
    /// from polls at the configured interval.
    public var valuesLiveBetweenPolls: Bool { portfolioMarginAPI == nil }

    /// The asset of a single-asset account's totals.
    public var defaultMarginAsset: String { marginAssets.defaultAsset }
}
