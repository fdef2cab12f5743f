/// A configuration problem: one line naming the file, the line and the field. Never a secret.
struct ConfigError: Error, CustomStringConvertible {
    var file: String?
    var line: Int?
    var field: String
    var problem: String

    var description: String {
        var location = file ?? "command line"
        if let line { location += ":\(line)" }
        return "\(location): \(field): \(problem)"
    }
}
