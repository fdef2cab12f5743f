import BinanceWebSocketAPI
import Logging

/// What an API key used for monitoring should not be able to do, from
/// `GET /sapi/v1/account/apiRestrictions`: the verdict shared by the metrics' alert and
/// `check-config`.
public enum APIKeyVerdict {
    /// The `permission` label for one of Binance's flags: `enableInternalTransfer` →
    /// `internal_transfer`, `permitsUniversalTransfer` → `universal_transfer`.
    public static func label(_ flag: String) -> String {
        var name = Substring(flag)
        for prefix in ["enable", "permits"] where name.hasPrefix(prefix) { name = name.dropFirst(prefix.count) }
        var out = ""
        for (index, character) in name.enumerated() {
            if character.isUppercase, index > 0 { out += "_" }
            out += character.lowercased()
        }
        return out
    }

    static let movesMoney: Set<String> = ["withdrawals", "internal_transfer", "universal_transfer"]
    static let trades: Set<String> = [
        "futures", "spot_and_margin_trading", "margin", "vanilla_options", "portfolio_margin_trading", "fix_api_trade",
    ]

    /// What is wrong with the key for monitoring, worst first; empty when it is harmless.
    public static func problems(_ restrictions: APIRestrictions) -> [String] {
        let granted = Set(restrictions.flags.filter(\.value).keys.map(label))
        var problems: [String] = []
        let money = granted.intersection(movesMoney).sorted()
        if !money.isEmpty { problems.append("can move money out (\(money.joined(separator: ", ")))") }
        let trading = granted.intersection(trades).sorted()
        if !trading.isEmpty { problems.append("can trade (\(trading.joined(separator: ", ")))") }
        if !restrictions.ipRestricted { problems.append("is not restricted to trusted IPs") }
        return problems
    }
}

/// Reads an account's key permissions (its session asks at start and every hour), for
/// `binance_futures_api_key_permission` and `binance_futures_api_key_ip_restricted`. The spot
/// API (`/sapi`) has its own weight pool, so only a ban of the IP holds the check back. A key
/// that may not read its restrictions, or a testnet without `/sapi`, is one clear log line and
/// no metric; it never affects polling.
public actor APIKeyAudit {
    public nonisolated let account: String
    private let client: any AccountREST
    private let scheduler: WeightScheduler
    private let registry: MetricsRegistry
    private let logger: Logger
    private var refusalLogged = false

    public init(
        account: String, client: any AccountREST, scheduler: WeightScheduler, registry: MetricsRegistry, logger: Logger
    ) {
        self.account = account
        self.client = client
        self.scheduler = scheduler
        self.registry = registry
        var logger = logger
        logger[metadataKey: "account"] = "\(account)"
        self.logger = logger
    }

    /// One check. The account's session runs it at start and every hour.
    public func check() async {
        if case .deferred(.banned, _) = await scheduler.admit(weight: 0) { return }
        do {
            let restrictions = try await client.apiRestrictions(offsetMilliseconds: await scheduler.clockOffsetMilliseconds).value
            refusalLogged = false
            await registry.apply(account: account, .apiKey(restrictions))
            let problems = APIKeyVerdict.problems(restrictions)
            if !problems.isEmpty {
                logger.warning(
                    "this API key is more powerful than monitoring needs; use a read-only, IP-restricted key",
                    metadata: ["key_problems": "\(problems.joined(separator: "; "))"])
            }
        } catch {
            await scheduler.absorb(error)
            if !refusalLogged {
                refusalLogged = true
                logger.warning(
                    "cannot read this API key's permissions; no permission metrics for this account, polling is not affected",
                    metadata: ["error": "\(error)", "url": "\(client.spotBaseDescription)\(SpotAPI.binance.apiRestrictions.path)"])
            }
        }
    }
}
