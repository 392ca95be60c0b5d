/// A sequential specification: what each operation may return from a state, and the state after.
/// Built-in models are in `LinearizabilityModel`; a scenario's own model (written in Lua) comes in
/// through this protocol, with its state as an `OperationValue` so the search can memoise it.
public protocol SequentialModel: Sendable {
    /// The state before any operation.
    var initialState: OperationValue { get }
    /// The state after applying `invocation` whose completion is `completion` (nil when the outcome
    /// is unknown), or nil when that completion is impossible from `state`.
    func step(_ state: OperationValue, invocation: ClientOperation, completion: ClientOperation?) throws -> OperationValue?
}

/// The models a scenario names by string.
public enum LinearizabilityModel: Sendable {
    case register
    case casRegister
    case set
    /// Per-key string values with get/put/append; checked key by key.
    case kv
    /// One register with read/write/cas, absent at first, as Jepsen's etcd tests recorded it.
    case etcd
    case custom(any SequentialModel)
}

/// The verdict for a whole history and for each key of it.
public struct LinearizabilityResult: Sendable {
    public enum Validity: Sendable, Equatable { case valid, invalid, unknown }

    public struct KeyResult: Sendable {
        public var valid: Validity
        /// For an invalid key: the longest linearizable prefix found (completions, in linearization order).
        public var linearized: [ClientOperation]
        /// For an invalid key: the operation that cannot be placed after `linearized`.
        public var failedOperation: ClientOperation?
        public init(valid: Validity, linearized: [ClientOperation] = [], failedOperation: ClientOperation? = nil) {
            self.valid = valid; self.linearized = linearized; self.failedOperation = failedOperation
        }
    }

    public var valid: Validity
    /// Keyed by the operations' `key`; a single-object history has one entry under "".
    public var keys: [String: KeyResult]

    public init(valid: Validity, keys: [String: KeyResult]) { self.valid = valid; self.keys = keys }
}

/// Linearizability checking: a Wing–Gong/Lowe search with memoisation of (linearized set, state),
/// split per key (P-compositionality).
public enum Linearizability {
    /// Checks `history` against `model`. Past `timeLimit` (seconds) the answer is `.unknown`, never a hang.
    /// Runs on the calling thread (a Lua model's `step` calls back into Lua there).
    public static func check(_ history: OperationHistory, model: LinearizabilityModel,
                             timeLimit: Double? = nil) throws -> LinearizabilityResult {
        // Placeholder until the search lands: nothing is claimed.
        LinearizabilityResult(valid: .unknown, keys: [:])
    }
}
