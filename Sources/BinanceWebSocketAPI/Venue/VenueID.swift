/// Which Binance futures venue an account lives on. The raw value is the spelling users write
/// (a future per-account `venue:` config key) and the `venue` label value, so it never changes
/// once released.
public enum VenueID: String, Sendable, Hashable, CaseIterable {
    /// USDⓈ-M futures: ws-fapi, fstream, fapi REST.
    case usdM = "usd-m"
}
