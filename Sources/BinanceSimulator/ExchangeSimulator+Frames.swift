extension ExchangeSimulator {
    /// The exact success frame the simulator would send for `method` on `apiKey`'s account
    /// (`account.status`, `v2/account.status`, `account.position`, `v2/account.position`; on a
    /// COIN-M account ws-dapi's `account.status`, `account.position`, `account.balance`).
    /// `venue` nil: the key's USDⓈ-M account, or its COIN-M account when it has only that.
    /// Used by benchmarks and fixtures; charges no weight.
    public func responseFrame(apiKey: String, method: String, id: String = "1", venue: SimulatedVenue? = nil) -> String? {
        state.withLockedValue { state -> String? in
            guard let account = state.accounts[state.accountID(apiKey, venue)] else { return nil }
            let book = AccountBook(account: account, market: state.market)
            let result: String
            if account.venue == .coinM {
                switch method {
                case "account.status": result = book.coinMStatusResult()
                case "account.position": result = book.coinMPositionsResult(marginAsset: nil, pair: nil)
                case "account.balance": result = book.coinMBalanceResult()
                default: return nil
                }
                return rules.okFrame(id: id, result: result, state: state)
            }
            switch method {
            case "account.status": result = book.statusResult(v1: true)
            case "v2/account.status": result = book.statusResult(v1: false)
            case "account.position": result = book.positionsResult(v1: true, symbol: nil)
            case "v2/account.position": result = book.positionsResult(v1: false, symbol: nil)
            default: return nil
            }
            return rules.okFrame(id: id, result: result, state: state)
        }
    }
}
