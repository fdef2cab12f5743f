/// Portfolio Margin: every fact the client and the exporter use about this venue, stated once.
/// Sources: issue #27, SPEC §12 and the official `binance-sdk-derivatives-trading-portfolio-margin`
/// (16.1.0: routes, weights, field names). A PM account has no WebSocket API: it is read by
/// signed REST on papi, whose answers carry `X-MBX-USED-WEIGHT-1M` of a limit Binance states as
/// 6000/min without saying whether it is the fapi/dapi window or a window of its own. The
/// exporter admits papi requests in its one scheduler as if the window were shared (safe if it
/// is), and a papi count only ever raises the scheduler's view of the IP's use (safe if it is
/// not): see `WeightScheduler.observe`.
extension FuturesVenue {
    public static let portfolioMargin = FuturesVenue(
        id: .portfolioMargin, webSocketAPI: nil, userStream: .portfolioMargin, marketStream: .usdM, rest: .portfolioMargin,
        marginAssets: .quoteSuffix(quoteAssets: ["USDT", "USDC", "FDUSD", "BUSD"], fallback: "USDT"),
        incomeKinds: [.realizedPnL, .commission, .fundingFee], portfolioMarginAPI: .binance)

    /// The requests that stand in for a WebSocket API's methods, with their weights: what the
    /// exporter budgets for a poll, a clock sync and a listen key on this venue.
    public var pollWeights: WebSocketAPI { webSocketAPI ?? portfolioMarginAPI?.pollWeights ?? .usdM }
}

extension FuturesVenue {
    /// papi's account reads: what a poll of a PM account is made of.
    public struct PortfolioMarginAPI: Sendable, Hashable {
        /// `uniMMR`, equity, margins and status.
        public var account: RESTRoute
        /// Per asset: wallet, cross-margin loans, UM and CM wallets and uPnL.
        public var balance: RESTRoute
        /// UM positions (as USDⓈ-M's `positionRisk`).
        public var umPositions: RESTRoute
        /// CM positions (in contracts, as COIN-M's).
        public var cmPositions: RESTRoute
        /// The PM listen key (POST to start, PUT to keep alive, DELETE to end; API key only).
        public var listenKey: RESTRoute
        /// Binance's published PM IP limit per minute.
        public var documentedLimit: Int64

        public init(
            account: RESTRoute, balance: RESTRoute, umPositions: RESTRoute, cmPositions: RESTRoute, listenKey: RESTRoute,
            documentedLimit: Int64
        ) {
            self.account = account
            self.balance = balance
            self.umPositions = umPositions
            self.cmPositions = cmPositions
            self.listenKey = listenKey
            self.documentedLimit = documentedLimit
        }

        public static let binance = PortfolioMarginAPI(
            account: RESTRoute(path: "/papi/v1/account", weight: 20), balance: RESTRoute(path: "/papi/v1/balance", weight: 20),
            umPositions: RESTRoute(path: "/papi/v1/um/positionRisk", weight: 5),
            cmPositions: RESTRoute(path: "/papi/v1/cm/positionRisk", weight: 1),
            listenKey: RESTRoute(path: "/papi/v1/listenKey", weight: 1), documentedLimit: 6000)

        /// The PM reads priced as the methods a session budgets: `account.status` is the account
        /// and its balances (40), `account.position` both position lists (6), `session.status`
        /// the server time (1, on fapi: papi has none), the listen key calls 1. No handshake.
        public var pollWeights: WebSocketAPI {
            WebSocketAPI(
                endpoint: EndpointURLs(production: FuturesVenue.REST.portfolioMargin.endpoint.production, testnet: nil),
                handshakeWeight: 0,
                assumedWeights: [
                    .accountStatus: account.weight + balance.weight, .accountPosition: umPositions.weight + cmPositions.weight,
                    .sessionStatus: 1, .userDataStreamStart: listenKey.weight, .userDataStreamPing: listenKey.weight,
                    .userDataStreamStop: listenKey.weight,
                ])
        }
    }
}

extension FuturesVenue.UserStream {
    /// The PM user stream: `<base>/ws/<listenKey>`, one connection per key (SPEC §12), with
    /// UM and CM events told apart by `fs`.
    public static let portfolioMargin = FuturesVenue.UserStream(
        endpoint: EndpointURLs(production: "wss://fstream.binance.com/pm", testnet: nil),
        layout: .perListenKey, handshakeWeight: 0,
        events: [.riskLevelChange, .accountUpdate, .orderTradeUpdate, .listenKeyExpired, .algoUpdate, .accountConfigUpdate])
}

extension FuturesVenue.REST {
    /// papi: UM income and brackets. No PM testnet. The open-order lists (UM plain and algo, CM
    /// plain and conditional: `/papi/v1/um/openOrders`, `/papi/v1/um/algo/openAlgoOrders`,
    /// `/papi/v1/cm/openOrders`, `/papi/v1/cm/conditional/openOrders`) are four, not two: they
    /// are not read yet, so a PM account exports no protection metrics.
    public static let portfolioMargin = FuturesVenue.REST(
        endpoint: EndpointURLs(production: "https://papi.binance.com", testnet: nil),
        income: RESTRoute(path: "/papi/v1/um/income", weight: 30), incomePageSize: 1000,
        leverageBrackets: RESTRoute(path: "/papi/v1/um/leverageBracket", weight: 1),
        serverTime: RESTRoute(path: "/fapi/v1/time", weight: 1), orderLists: nil)
}
