/// Portfolio Margin accounts for tests and the demo: papi's base URL, the account-wide figures
/// papi reports, and hooks that move an account through Binance's uniMMR bands, set its loans,
/// force a status, and load papi's weight window.
extension ExchangeSimulator {
    /// `http://127.0.0.1:PORT` once started: the papi REST base (`--binance.pm-rest-url`), the
    /// same port as fapi and dapi.
    public var pmRestURL: String { restURL }

    /// The figures `GET /papi/v1/account` reports for the key's Portfolio Margin account, as
    /// numbers (nil: no such account).
    public func portfolioMarginFigures(apiKey: String) -> PortfolioMarginFigures? {
        state.withLockedValue { state in
            guard let account = state.accounts[SimulatedVenue.portfolioMargin.accountID(apiKey)] else { return nil }
            let summary = AccountBook(account: account, market: state.market).portfolioMarginSummary()
            return PortfolioMarginFigures(
                uniMMR: summary.uniMMR, accountEquity: summary.accountEquity, actualEquity: summary.actualEquity,
                initialMargin: summary.initialMargin, maintMargin: summary.maintMargin, status: summary.status)
        }
    }

    /// Sets the cross-margin loan of `asset` (principal and interest). `creditWallet`: the
    /// borrowed coins also land in the free balance (a fresh loan, equity unchanged until the
    /// price moves); otherwise only the debt changes, which lowers equity by its value.
    public func setPortfolioMarginBorrowing(
        apiKey: String, asset: String, borrowed: Double, interest: Double = 0, creditWallet: Bool = false
    ) {
        updateAccount(apiKey: apiKey, venue: .portfolioMargin) { account in
            var holding = account.portfolioMarginAssets[asset] ?? SimulatedPortfolioMarginAsset()
            if creditWallet { account.wallets[asset, default: 0] += borrowed - holding.borrowed }
            holding.borrowed = borrowed
            holding.interest = interest
            account.portfolioMarginAssets[asset] = holding
        }
    }

    /// Reports `status` as `accountStatus` whatever uniMMR says (nil: back to the bands).
    public func forcePortfolioMarginStatus(apiKey: String, _ status: PortfolioMarginStatus?) {
        updateAccount(apiKey: apiKey, venue: .portfolioMargin) { $0.forcedPortfolioMarginStatus = status }
    }

    /// Moves the account's uniMMR to `target` by changing its USDT free balance (a deposit or a
    /// loss), so a test lands in any band exactly. False without the account or without
    /// maintenance margin (no positions: uniMMR is fixed).
    @discardableResult
    public func setPortfolioMarginUniMMR(apiKey: String, _ target: Double) -> Bool {
        let moved = state.withLockedValue { state in
            let id = SimulatedVenue.portfolioMargin.accountID(apiKey)
            guard var account = state.accounts[id] else { return false }
            let book = AccountBook(account: account, market: state.market)
            let summary = book.portfolioMarginSummary()
            guard summary.maintMargin > 0 else { return false }
            let usdt = book.portfolioMarginAssets().first { $0.asset == "USDT" } ?? AccountBook.PortfolioMarginAssetRow(asset: "USDT")
            let rate = state.market.collateralRate(of: "USDT")
            // USDT is worth 1 USD: a holding counts at its collateral rate, a debt in full.
            let others = summary.accountEquity - (usdt.net > 0 ? usdt.net * rate : usdt.net)
            let wanted = target * summary.maintMargin - others
            let net = wanted > 0 ? wanted / rate : wanted
            account.wallets["USDT", default: 0] += net - usdt.net
            state.accounts[id] = account
            return true
        }
        reportRiskLevelChanges()
        return moved
    }

    /// Pushes `riskLevelChange` to the stream of every Portfolio Margin account whose status
    /// (`accountStatus`, from the uniMMR bands or forced) differs from the one its stream was
    /// last told. Binance documents `s` as MARGIN_CALL, REDUCE_ONLY, FORCE_LIQUIDATION; the
    /// simulator sends whichever status the account entered, `NORMAL` when it recovers (so a
    /// client sees every crossing, back up included). Called after every change that can move
    /// uniMMR: prices, fills, funding, account edits and the PM hooks.
    func reportRiskLevelChanges() {
        let now = clock()
        let changes = state.withLockedValue { state -> [(accountID: String, json: String)] in
            let now = now + state.faults.clockSkewMilliseconds
            var changes: [(accountID: String, json: String)] = []
            for (id, account) in state.accounts where account.venue == .portfolioMargin {
                let summary = AccountBook(account: account, market: state.market).portfolioMarginSummary()
                guard let previous = state.riskLevels.updateValue(summary.status, forKey: id), previous != summary.status else { continue }
                changes.append((id, UserEventFrames.riskLevelChange(summary, now: now)))
            }
            return changes
        }
        for change in changes { deliver(accountID: change.accountID, events: [(type: "riskLevelChange", json: change.json)]) }
    }

    /// Tests: pushes `json` (any event, as text) as an event of `type` to the stream of the
    /// key's account on `venue` (the Portfolio Margin one by default). False without a live
    /// listen key.
    @discardableResult
    public func pushUserStreamEvent(apiKey: String, venue: SimulatedVenue = .portfolioMargin, type: String, json: String) -> Bool {
        let accountID = venue.accountID(apiKey)
        guard listenKey(accountID: accountID) != nil else { return false }
        deliver(accountID: accountID, events: [(type: type, json: json)])
        return true
    }

    /// Weight spent on papi by other programs on the same IP in the current minute, in the
    /// window papi is counted in.
    public func addBackgroundPapiWeight(_ weight: Int64) {
        let now = clock()
        let shared = configuration.papiSharesIPWeight
        state.withLockedValue { state in
            state.addPapiWeight(weight, shared: shared, now: now + state.faults.clockSkewMilliseconds, ownClient: false)
        }
    }

    /// The count of the window papi is counted in (the IP's, when shared).
    public var papiWeightCount: Int64 {
        let now = clock()
        let shared = configuration.papiSharesIPWeight
        return state.withLockedValue { state in state.papiCount(shared: shared, now: now + state.faults.clockSkewMilliseconds) }
    }
}

/// What `GET /papi/v1/account` reports, as numbers: equities and margins in USD.
public struct PortfolioMarginFigures: Sendable, Equatable {
    public var uniMMR: Double
    /// With collateral rates applied to holdings.
    public var accountEquity: Double
    /// Without collateral rates.
    public var actualEquity: Double
    public var initialMargin: Double
    public var maintMargin: Double
    public var status: PortfolioMarginStatus
}
