/// Binance's spot REST API, used only for `/sapi` (the API key's permissions). It is not a
/// futures venue: every venue's keys are checked there, so it is a value of its own.
public struct SpotAPI: Sendable, Hashable {
    public var endpoint: EndpointURLs
    /// What the API key may do.
    public var apiRestrictions: RESTRoute

    public init(endpoint: EndpointURLs, apiRestrictions: RESTRoute) {
        self.endpoint = endpoint
        self.apiRestrictions = apiRestrictions
    }

    /// api.binance.com. The spot testnet has no `/sapi`: the key check says so once and exports
    /// nothing.
    public static let binance = SpotAPI(
        endpoint: EndpointURLs(production: "https://api.binance.com", testnet: "https://testnet.binance.vision"),
        apiRestrictions: RESTRoute(path: "/sapi/v1/account/apiRestrictions", weight: 1))
}
