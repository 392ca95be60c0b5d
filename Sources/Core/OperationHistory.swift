/// A workload's history in Jepsen's sense: each client operation is an `invoke` followed by one
/// completion (`ok`, `fail` or `info`) from the same process. Checkers (`Linearizability`) read it;
/// `OperationHistoryFormats` writes and reads it as JSON lines, Jepsen's EDN op maps and Jepsen's
/// etcd text logs.
///
/// This is not the run's `History` (cluster, exec, wait and fault operations of a whole run); a
/// fault is copied into a workload's timeline as an operation of a `.named("nemesis")` process.
public struct OperationHistory: Sendable, Equatable {
    public var operations: [ClientOperation]

    public init(_ operations: [ClientOperation] = []) { self.operations = operations }
}

/// One event of a history: an invocation or a completion.
public struct ClientOperation: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// The client began the operation.
        case invoke
        /// It took effect, with `value` as its result.
        case ok
        /// It certainly did not take effect.
        case fail
        /// Its outcome is unknown (a timeout): it may take effect at any point after its invoke, or
        /// never, and its process is crashed for the rest of the history.
        case info
    }

    /// Who did it. Jepsen's clients are integers; anything else (its `:nemesis`) is named.
    public enum Process: Hashable, Sendable {
        case client(Int)
        case named(String)
    }

    /// Position in the history, from 0.
    public var index: Int
    public var kind: Kind
    public var process: Process
    /// The function: "read", "write", "cas", "add", "get", "put", "append", ...
    public var f: String
    /// The object the operation is on; nil for single-object histories.
    public var key: String?
    public var value: OperationValue
    /// Monotonic nanoseconds (only differences mean anything); nil when the source had none.
    public var time: UInt64?
    /// Why it failed or is unknown (`fail`/`info`).
    public var error: String?

    public init(index: Int, kind: Kind, process: Process, f: String, key: String? = nil,
                value: OperationValue = .none, time: UInt64? = nil, error: String? = nil) {
        self.index = index; self.kind = kind; self.process = process; self.f = f; self.key = key
        self.value = value; self.time = time; self.error = error
    }
}

/// The value of an operation: what a client wrote, read or compared. JSON-shaped, so every format
/// can carry it, and Hashable, so a model state built from values can be memoised.
public indirect enum OperationValue: Hashable, Sendable {
    case none
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case list([OperationValue])
    case map([String: OperationValue])
}
