import Foundation

/// Writing and reading an `OperationHistory`: ccm-lua's JSON lines, Jepsen's EDN op maps, and the
/// text logs Jepsen wrote for its etcd tests.
public enum OperationHistoryFormats {
    /// The format of a history file.
    public enum Format: String, Sendable { case jsonLines = "jsonl", edn, jepsenLog = "jepsen-log" }

    /// One JSON object per operation.
    public static func jsonLines(_ history: OperationHistory) -> Data {
        Data() // placeholder until the formats land
    }

    /// One EDN op map per line, as Jepsen's checkers (Knossos, elle-cli) read them.
    public static func edn(_ history: OperationHistory) -> String {
        "" // placeholder until the formats land
    }

    /// Reads any of the three formats, telling them apart by content.
    public static func load(_ data: Data) throws -> OperationHistory {
        OperationHistory() // placeholder until the formats land
    }
}
