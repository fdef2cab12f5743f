/// The default URL of one Binance endpoint on production and on the testnet, as text: the
/// exporter's settings parse them with the same parser as a user's flag or config value, so a
/// default and an override cannot be read differently.
public struct EndpointURLs: Sendable, Hashable {
    public var production: String
    /// Nil when Binance runs no testnet for the endpoint (Portfolio Margin has none).
    public var testnet: String?

    public init(production: String, testnet: String?) {
        self.production = production
        self.testnet = testnet
    }

    /// The URL for `testnet` or production; nil when a testnet is asked for and there is none.
    public func url(testnet: Bool) -> String? { testnet ? self.testnet : production }
}
