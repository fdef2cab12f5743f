import Testing

@testable import BinanceWebSocketAPI
@testable import ExporterCore

/// Funding payments reach the exporter twice when a stream gap's backfill window covers them:
/// once on the stream, once in the ledger. Each must count once, whether Binance named the symbol
/// (isolated positions) or not (crossed positions: the balance only).
@Suite struct FundingDedupeTests {
    static func funding(_ asset: String, _ amount: Double, at time: Int64, symbol: String?) -> StreamEvent {
        .event(
            .accountUpdate(
                AccountUpdate(
                    eventTime: time, transactionTime: time, reason: "FUNDING_FEE",
                    balances: [.init(asset: asset, walletBalance: 1000, crossWalletBalance: 1000, balanceChange: amount)],
                    positions: [], fundingSymbol: symbol)))
    }

    static func row(_ id: Int64, _ type: String, _ amount: Double, at time: Int64, symbol: String = "BTCUSDT", trade: String = "")
        -> IncomeEntry
    {
        IncomeEntry(symbol: symbol, incomeType: type, income: amount, asset: "USDT", time: time, tranID: id, tradeID: trade)
    }

    static func income(_ view: AccountView, _ type: IncomeType, _ direction: IncomeDirection) -> Double {
        view.activity.income[AccountActivity.IncomeKey(asset: "USDT", type: type, direction: direction)] ?? 0
    }

    @Test("a crossed position's funding (no symbol) seen on the stream, then in a backfill covering it, counts once")
    func crossedFundingThenBackfill() {
        var view = AccountView(name: "a", health: AccountHealth(pollIntervalSeconds: 15))
        view.apply(Self.funding("USDT", -1.25, at: 1_000, symbol: nil))
        #expect(Self.income(view, .fundingFee, .out) == 1.25)
        // The stream drops 30 s later; the backfill window starts 60 s before the drop.
        view.apply(.ledger([Self.row(1, "FUNDING_FEE", -1.25, at: 1_000), Self.row(2, "FUNDING_FEE", 0.5, at: 9_000)]))
        #expect(Self.income(view, .fundingFee, .out) == 1.25, "the stream's payment is not counted again")
        #expect(Self.income(view, .fundingFee, .in) == 0.5, "the payment only the ledger saw is counted")
        // A second backfill whose window overlaps the first: the same rows again, nothing new.
        view.apply(.ledger([Self.row(2, "FUNDING_FEE", 0.5, at: 9_000)]))
        #expect(Self.income(view, .fundingFee, .in) == 0.5)
    }

    @Test("funding with a symbol, a fill and its fee on either side of a gap: each counted once")
    func everyKindOnEitherSide() {
        var view = AccountView(name: "a", health: AccountHealth(pollIntervalSeconds: 15))
        // Before the gap, on the stream: an isolated position's funding (with symbol).
        view.apply(Self.funding("USDT", 0.75, at: 2_000, symbol: "ETHUSDT"))
        // The ledger after the gap holds those and what the gap hid, in any order.
        view.apply(
            .ledger([
                Self.row(11, "REALIZED_PNL", 3, at: 5_000, trade: "77"), Self.row(12, "COMMISSION", -0.1, at: 5_000, trade: "77"),
                Self.row(13, "FUNDING_FEE", 0.75, at: 2_000, symbol: "ETHUSDT"),
            ]))
        #expect(Self.income(view, .fundingFee, .in) == 0.75)
        #expect(Self.income(view, .realizedPnL, .in) == 3)
        #expect(Self.income(view, .commission, .out) == 0.1)
        // The other order: a crossed payment the ledger counts first, then the stream delivers
        // it late (the backfill ran while the resubscribed stream was catching up).
        view.apply(.ledger([Self.row(14, "FUNDING_FEE", -0.4, at: 7_000)]))
        view.apply(Self.funding("USDT", -0.4, at: 7_000, symbol: nil))
        #expect(Self.income(view, .fundingFee, .out) == 0.4, "ledger first, stream second: still once")
        #expect(Self.income(view, .fundingFee, .in) == 0.75)
    }

    @Test("two symbols paying the same amount at the same funding time are two payments, from either source")
    func identicalPaymentsAreNotMerged() {
        var view = AccountView(name: "a", health: AccountHealth(pollIntervalSeconds: 15))
        view.apply(Self.funding("USDT", -2, at: 28_800_000, symbol: nil))
        view.apply(Self.funding("USDT", -2, at: 28_800_000, symbol: nil))
        #expect(Self.income(view, .fundingFee, .out) == 4)
        view.apply(
            .ledger([
                Self.row(21, "FUNDING_FEE", -2, at: 28_800_000, symbol: "BTCUSDT"),
                Self.row(22, "FUNDING_FEE", -2, at: 28_800_000, symbol: "ETHUSDT"),
            ]))
        #expect(Self.income(view, .fundingFee, .out) == 4, "both rows match the two stream payments")
        // The stream missed the third one (a gap): the ledger adds it.
        view.apply(.ledger([Self.row(23, "FUNDING_FEE", -2, at: 28_800_000, symbol: "SOLUSDT")]))
        #expect(Self.income(view, .fundingFee, .out) == 6)
    }
}
