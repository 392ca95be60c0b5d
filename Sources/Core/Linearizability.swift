import Foundation

/// A sequential specification: what each operation may return from a state, and the state after.
/// Built-in models are in `LinearizabilityModel`; a scenario's own model (written in Lua) comes in
/// through this protocol, with its state as an `OperationValue` so the search can memoise it.
///
/// `completion` is nil when the outcome is unknown (`info`, or never completed): return the state
/// after the operation took effect, or nil if it cannot take effect from `state`. The checker
/// already covers "it never took effect", so an unknown operation needs no second answer.
public protocol SequentialModel: Sendable {
    /// The state before any operation.
    var initialState: OperationValue { get }
    /// The state after applying `invocation` whose completion is `completion` (nil when the outcome
    /// is unknown), or nil when that completion is impossible from `state`.
    func step(_ state: OperationValue, invocation: ClientOperation, completion: ClientOperation?) throws -> OperationValue?
}

/// The models a scenario names by string. Their semantics are in docs/checker.md; in short:
/// - `register`: `read` returns the current value (nil at first), `write v` sets it.
/// - `casRegister`: a register with `cas [old, new]`, which applies only when the value is `old`;
///   a cas that found another value completes with `fail` and is dropped like every `fail`.
/// - `set`: `add e`; `read` returns every element added so far, as a list in any order.
/// - `kv`: string values per key: `get` returns the value ("" when missing), `put v` sets it,
///   `append s` concatenates; checked key by key.
/// - `etcd`: one register with read/write/cas, absent (nil) at first: Jepsen's etcd tests. It is
///   the `casRegister` under the name those histories use.
/// - `custom`: any `SequentialModel`.
///
/// Every model is checked per key: a history whose operations carry keys is a set of independent
/// objects (P-compositionality), each checked on its own.
public enum LinearizabilityModel: Sendable {
    case register
    case casRegister
    case set
    /// Per-key string values with get/put/append; checked key by key.
    case kv
    /// One register with read/write/cas, absent at first, as Jepsen's etcd tests recorded it.
    case etcd
    case custom(any SequentialModel)

    /// The names scenarios use: "register", "cas-register", "set", "kv", "etcd".
    public init?(name: String) {
        switch name {
        case "register": self = .register
        case "cas-register": self = .casRegister
        case "set": self = .set
        case "kv": self = .kv
        case "etcd": self = .etcd
        default: return nil
        }
    }

    public static let builtInNames = ["register", "cas-register", "set", "kv", "etcd"]

    public var name: String {
        switch self {
        case .register: "register"
        case .casRegister: "cas-register"
        case .set: "set"
        case .kv: "kv"
        case .etcd: "etcd"
        case .custom: "custom"
        }
    }
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

/// Why a history cannot be checked at all (as opposed to "not linearizable").
public struct LinearizabilityError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Linearizability checking: a Wing–Gong/Lowe search with memoisation of (linearized set, state),
/// split per key (P-compositionality).
public enum Linearizability {
    /// Checks `history` against `model`. Past `timeLimit` (seconds) the answer is `.unknown`, never a hang.
    /// Runs on the calling thread (a Lua model's `step` calls back into Lua there).
    ///
    /// Operations of named processes (the nemesis) are ignored; a `fail` and its invoke are dropped;
    /// an `info`, or an invoke never completed, may take effect at any point after its invoke, or
    /// never. Throws `LinearizabilityError` when the history is malformed (a completion without an
    /// invoke) or an operation does not fit the model (an unknown function, a cas that is not
    /// `[old, new]`).
    public static func check(_ history: OperationHistory, model: LinearizabilityModel,
                             timeLimit: Double? = nil) throws -> LinearizabilityResult {
        let deadline = timeLimit.map { MonotonicClock.now &+ UInt64(max(0, $0) * 1e9) }
        let byKey = try CheckedOperation.pair(history)
        var keys: [String: LinearizabilityResult.KeyResult] = [:]
        // Smaller objects first: a time limit then leaves as few keys unknown as it can.
        for (key, operations) in byKey.sorted(by: { ($0.value.count, $0.key) < ($1.value.count, $1.key) }) {
            if let deadline, MonotonicClock.now > deadline {
                keys[key] = .init(valid: .unknown)
                continue
            }
            keys[key] = try checkObject(operations, model: model, deadline: deadline)
        }
        let all = keys.values.map(\.valid)
        let valid: LinearizabilityResult.Validity =
            all.contains(.invalid) ? .invalid : all.contains(.unknown) ? .unknown : .valid
        return LinearizabilityResult(valid: valid, keys: keys)
    }

    /// One object's operations, in invocation order.
    static func checkObject(_ operations: [CheckedOperation], model: LinearizabilityModel,
                            deadline: UInt64?) throws -> LinearizabilityResult.KeyResult {
        switch model {
        case .register:
            return try run(RegisterModel(operations, allowCas: false, name: "register"), deadline)
        case .casRegister:
            return try run(RegisterModel(operations, allowCas: true, name: "cas-register"), deadline)
        case .etcd:
            return try run(RegisterModel(operations, allowCas: true, name: "etcd"), deadline)
        case .set:
            return try run(SetModel(operations), deadline)
        case .kv:
            return try run(KeyValueModel(operations), deadline)
        case .custom(let custom):
            return try run(CustomModel(custom, operations), deadline)
        }
    }

    private static func run<Model: SearchModel>(_ model: Model, _ deadline: UInt64?) throws -> LinearizabilityResult.KeyResult {
        var model = model
        switch try LinearizationSearch.run(&model, deadline: deadline) {
        case .linearizable:
            return .init(valid: .valid)
        case .timedOut:
            return .init(valid: .unknown)
        case .notLinearizable(let prefix, let failed):
            let ops = model.operations
            return .init(valid: .invalid, linearized: prefix.map { ops[$0].shownCompletion },
                         failedOperation: ops[failed].shownCompletion)
        }
    }
}

/// Monotonic nanoseconds for deadlines.
enum MonotonicClock {
    static var now: UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
