/// The built-in models, compiled for the search: values are interned to small integers once, before
/// the search, so a step is a comparison and a state is an `Int` (a bitset for `set`).
///
/// An operation that only observes (`read`, `get`) with an unknown outcome constrains nothing, so
/// the built-in models drop it before the search instead of trying it at every point.

/// register, cas-register and etcd. The state is the interned current value; 0 is nil (absent).
/// - `read`: completes with the current value (nil while nothing was written).
/// - `write v`: the value becomes v.
/// - `cas [old, new]` (cas-register and etcd only): applies when the value is `old`; an `ok` cas
///   found `old`. A cas that found another value completes with `fail` and was dropped already.
/// - With an unknown outcome a write or cas may have taken effect (at any point after its invoke)
///   or not; a cas takes effect only if the value was `old` at that point.
struct RegisterModel: SearchModel {
    enum Step { case read(Int), write(Int), cas(old: Int, new: Int) }

    let operations: [CheckedOperation]
    let steps: [Step]
    var initialState: Int { 0 }

    init(_ all: [CheckedOperation], allowCas: Bool, name: String) throws {
        var values = ValueTable()
        var kept: [CheckedOperation] = []
        var steps: [Step] = []
        for operation in all {
            switch operation.invocation.f {
            case "read":
                guard let completion = operation.completion else { continue }
                steps.append(.read(values.id(completion.value)))
            case "write":
                steps.append(.write(values.id(operation.argument)))
            case "cas" where allowCas:
                guard case .list(let pair) = operation.argument, pair.count == 2 else {
                    throw LinearizabilityError(
                        "the \(name) model needs a cas value [old, new]; the cas at index "
                        + "\(operation.invocation.index) has \(operation.argument.shortText)")
                }
                steps.append(.cas(old: values.id(pair[0]), new: values.id(pair[1])))
            default:
                throw unknownFunction(operation, model: name, known: allowCas ? "read, write, cas" : "read, write")
            }
            kept.append(operation)
        }
        operations = kept
        self.steps = steps
    }

    func step(_ state: Int, _ operation: Int) -> Int? {
        switch steps[operation] {
        case .read(let value): return value == state ? state : nil
        case .write(let value): return value
        case .cas(let old, let new): return old == state ? new : nil
        }
    }

    func hash(_ state: Int) -> UInt64 { UInt64(bitPattern: Int64(state)) &* 0xBF58_476D_1CE4_E5B9 }
}

/// set. The state is a bitset of interned elements.
/// - `add e`: e is in the set afterwards (adding it twice is fine).
/// - `read`: completes with a list of every element added so far, in any order.
struct SetModel: SearchModel {
    enum Step { case add(Int), read(SetState), impossible }
    struct SetState: Hashable { var words: [UInt64] }

    let operations: [CheckedOperation]
    let steps: [Step]
    let initialState: SetState

    init(_ all: [CheckedOperation]) throws {
        var elements = ValueTable()
        var kept: [CheckedOperation] = []
        var adds: [(CheckedOperation, Int)] = []
        var reads: [CheckedOperation] = []
        for operation in all {
            switch operation.invocation.f {
            case "add":
                adds.append((operation, elements.id(operation.argument)))
            case "read":
                guard let completion = operation.completion else { continue }
                guard case .list = completion.value else {
                    throw LinearizabilityError(
                        "the set model needs a read to complete with a list of elements; the read at index "
                        + "\(completion.index) has \(completion.value.shortText)")
                }
                reads.append(operation)
            default:
                throw unknownFunction(operation, model: "set", known: "add, read")
            }
        }
        let wordCount = max(1, (elements.count + 64) / 64)
        var stepByPosition: [Int: Step] = [:]
        for (operation, id) in adds { stepByPosition[operation.callPosition] = .add(id) }
        for operation in reads {
            guard case .list(let items) = operation.completion!.value else { continue }
            var words = [UInt64](repeating: 0, count: wordCount)
            var possible = true
            for item in items {
                // An element nobody added can never be read.
                guard let id = elements.existingID(item) else { possible = false; break }
                words[id >> 6] |= 1 << UInt64(id & 63)
            }
            stepByPosition[operation.callPosition] = possible ? .read(SetState(words: words)) : .impossible
        }
        kept = all.filter { stepByPosition[$0.callPosition] != nil }
        operations = kept
        steps = kept.map { stepByPosition[$0.callPosition]! }
        initialState = SetState(words: [UInt64](repeating: 0, count: wordCount))
    }

    func step(_ state: SetState, _ operation: Int) -> SetState? {
        switch steps[operation] {
        case .add(let id):
            let bit: UInt64 = 1 << UInt64(id & 63)
            if state.words[id >> 6] & bit != 0 { return state }
            var after = state
            after.words[id >> 6] |= bit
            return after
        case .read(let expected): return expected == state ? state : nil
        case .impossible: return nil
        }
    }

    func hash(_ state: SetState) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for word in state.words { hash = (hash ^ word) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}

/// kv, for one key. The state is the interned string value; a missing key is "".
/// - `get`: completes with the value ("" or nil when the key is missing).
/// - `put v`: the value becomes v.
/// - `append s`: the value becomes value .. s.
/// Integers are taken as their decimal text.
struct KeyValueModel: SearchModel {
    enum Step { case get(Int), put(Int), append(Int) }

    let operations: [CheckedOperation]
    let steps: [Step]
    private let strings: StringTable
    var initialState: Int { 0 }

    init(_ all: [CheckedOperation]) throws {
        let strings = StringTable()
        var kept: [CheckedOperation] = []
        var steps: [Step] = []
        for operation in all {
            switch operation.invocation.f {
            case "get":
                guard let completion = operation.completion else { continue }
                steps.append(.get(strings.id(try Self.text(completion.value, completion, "get"))))
            case "put":
                steps.append(.put(strings.id(try Self.text(operation.argument, operation.invocation, "put"))))
            case "append":
                steps.append(.append(strings.id(try Self.text(operation.argument, operation.invocation, "append"))))
            default:
                throw unknownFunction(operation, model: "kv", known: "get, put, append")
            }
            kept.append(operation)
        }
        operations = kept
        self.steps = steps
        self.strings = strings
    }

    private static func text(_ value: OperationValue, _ operation: ClientOperation, _ f: String) throws -> String {
        switch value {
        case .none: return ""
        case .string(let text): return text
        case .integer(let number): return String(number)
        default:
            throw LinearizabilityError(
                "the kv model needs a string for \(f); the \(operation.kind.rawValue) at index \(operation.index) "
                + "has \(value.shortText)")
        }
    }

    func step(_ state: Int, _ operation: Int) -> Int? {
        switch steps[operation] {
        case .get(let value): return value == state ? state : nil
        case .put(let value): return value
        case .append(let suffix): return suffix == 0 ? state : strings.appending(state, suffix)
        }
    }

    func hash(_ state: Int) -> UInt64 { UInt64(bitPattern: Int64(state)) &* 0xBF58_476D_1CE4_E5B9 }
}

/// A scenario's model: states are `OperationValue`s and every step calls it.
struct CustomModel: SearchModel {
    let model: any SequentialModel
    let operations: [CheckedOperation]
    var initialState: OperationValue { model.initialState }

    init(_ model: any SequentialModel, _ operations: [CheckedOperation]) {
        self.model = model
        self.operations = operations
    }

    func step(_ state: OperationValue, _ operation: Int) throws -> OperationValue? {
        let checked = operations[operation]
        return try model.step(state, invocation: checked.invocation, completion: checked.completion)
    }
}

private func unknownFunction(_ operation: CheckedOperation, model: String, known: String) -> LinearizabilityError {
    LinearizabilityError(
        "the \(model) model has no function '\(operation.invocation.f)' (index \(operation.invocation.index)); "
        + "it knows \(known): choose the model that matches the workload, or a custom one")
}

/// Interns values to 0, 1, 2, ...; `.none` is always 0.
struct ValueTable {
    private var ids: [OperationValue: Int] = [.none: 0]
    var count: Int { ids.count }

    mutating func id(_ value: OperationValue) -> Int {
        if let id = ids[value] { return id }
        let id = ids.count
        ids[value] = id
        return id
    }

    func existingID(_ value: OperationValue) -> Int? { ids[value] }
}

/// Interns strings, "" as 0, and remembers appends so each concatenation is built once.
final class StringTable {
    private var ids: [String: Int] = ["": 0]
    private var texts: [String] = [""]
    private var appended: [Int64: Int] = [:]

    func id(_ text: String) -> Int {
        if let id = ids[text] { return id }
        let id = texts.count
        ids[text] = id
        texts.append(text)
        return id
    }

    func appending(_ value: Int, _ suffix: Int) -> Int {
        let pair = Int64(value) << 32 | Int64(suffix)
        if let id = appended[pair] { return id }
        let id = self.id(texts[value] + texts[suffix])
        appended[pair] = id
        return id
    }
}

extension OperationValue {
    /// A one-line rendering for messages.
    var shortText: String {
        let text = OperationHistoryEDN.write(self)
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }
}
