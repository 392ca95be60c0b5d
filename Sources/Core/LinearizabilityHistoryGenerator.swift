/// Linearizable histories made to order, for tests and bench/checker: a random sequential execution
/// of a built-in model, then made concurrent. Each operation takes effect at its own instant; its
/// invoke is moved earlier and its completion later, never across the neighbouring operations of
/// the same process, so the sequential order stays a valid linearization. Some operations end in
/// `info` (their process then crashes and a new one takes its place, as in Jepsen), some of those
/// never took effect, and some cas operations fail.
public struct LinearizableHistoryGenerator {
    public var model: LinearizabilityModel
    public var operations: Int
    /// Keys "k0", "k1", ...; 0 makes a single-object history (no key).
    public var keys: Int
    /// How many operations may be in flight at once.
    public var processes: Int
    /// The share of operations whose outcome is unknown.
    public var infoRate: Double
    public var seed: UInt64

    public init(model: LinearizabilityModel, operations: Int, keys: Int = 0, processes: Int = 5,
                infoRate: Double = 0.02, seed: UInt64) {
        self.model = model; self.operations = operations; self.keys = keys; self.processes = processes
        self.infoRate = infoRate; self.seed = seed
    }

    private struct Planned {
        var key: String?
        var f: String
        var invokeValue: OperationValue
        var completionValue: OperationValue
        var kind: ClientOperation.Kind
    }

    public func generate() -> OperationHistory {
        var random = SeededGenerator(seed: seed)
        var registers: [String: OperationValue] = [:]
        var sets: [String: [Int64]] = [:]
        var texts: [String: String] = [:]
        var planned: [Planned] = []
        planned.reserveCapacity(operations)
        func chance(_ share: Double) -> Bool { Double(random.next() % 1_000_000) < share * 1_000_000 }

        for i in 0..<operations {
            let key: String? = keys > 0 ? "k\(random.below(keys))" : nil
            let slot = key ?? ""
            let unknown = chance(infoRate)
            // An unknown outcome that never took effect leaves the state alone.
            let applies = !unknown || chance(0.5)
            var op: Planned
            switch model {
            case .register, .casRegister, .etcd, .custom:
                let current = registers[slot] ?? .none
                let roll = random.below(10)
                let allowsCas = { if case .register = model { return false } else { return true } }()
                if roll < 4 {
                    op = Planned(key: key, f: "read", invokeValue: .none, completionValue: current, kind: .ok)
                } else if roll < 7 || !allowsCas {
                    let value = OperationValue.integer(Int64(random.below(5)))
                    op = Planned(key: key, f: "write", invokeValue: value, completionValue: value, kind: .ok)
                    if applies { registers[slot] = value }
                } else {
                    let old = OperationValue.integer(Int64(random.below(5)))
                    let new = OperationValue.integer(Int64(random.below(5)))
                    let pair = OperationValue.list([old, new])
                    let matches = current == old
                    op = Planned(key: key, f: "cas", invokeValue: pair, completionValue: pair, kind: matches ? .ok : .fail)
                    if matches && applies { registers[slot] = new }
                }
            case .set:
                if random.below(2) == 0 {
                    let element = Int64(i)
                    op = Planned(key: key, f: "add", invokeValue: .integer(element), completionValue: .integer(element), kind: .ok)
                    if applies { sets[slot, default: []].append(element) }
                } else {
                    let items = random.shuffle(sets[slot] ?? []).map(OperationValue.integer)
                    op = Planned(key: key, f: "read", invokeValue: .none, completionValue: .list(items), kind: .ok)
                }
            case .kv:
                let roll = random.below(10)
                if roll < 4 {
                    op = Planned(key: key, f: "get", invokeValue: .none, completionValue: .string(texts[slot] ?? ""), kind: .ok)
                } else if roll < 6 {
                    let value = "p\(i)"
                    op = Planned(key: key, f: "put", invokeValue: .string(value), completionValue: .string(value), kind: .ok)
                    if applies { texts[slot] = value }
                } else {
                    let suffix = "a\(i)"
                    op = Planned(key: key, f: "append", invokeValue: .string(suffix), completionValue: .string(suffix), kind: .ok)
                    if applies { texts[slot, default: ""] += suffix }
                }
            }
            if unknown && op.kind == .ok {
                op.kind = .info
                op.completionValue = .none
            }
            planned.append(op)
        }

        // Operation i takes effect at 10 i + 5; each goes to one of `processes` slots.
        let width = 10 * max(1, processes) * 2
        var slotOf = [Int](repeating: 0, count: operations)
        var bySlot = [[Int]](repeating: [], count: max(1, processes))
        for i in 0..<operations {
            let slot = random.below(max(1, processes))
            slotOf[i] = slot
            bySlot[slot].append(i)
        }
        var invokeAt = [Int](repeating: 0, count: operations)
        var completeAt = [Int](repeating: 0, count: operations)
        for ops in bySlot {
            var previousEnd = -1
            for (n, i) in ops.enumerated() {
                let instant = 10 * i + 5
                let earliest = max(previousEnd + 1, instant - width)
                invokeAt[i] = earliest + random.below(instant - earliest + 1)
                let nextInstant = n + 1 < ops.count ? 10 * ops[n + 1] + 5 : instant + width
                let latest = min(nextInstant - 1, instant + width)
                completeAt[i] = instant + random.below(latest - instant + 1)
                previousEnd = completeAt[i]
            }
        }
        // A process that saw an info is crashed: its slot continues under a new process number.
        var processOf = [Int](repeating: 0, count: operations)
        var generation = [Int](repeating: 0, count: max(1, processes))
        for i in 0..<operations {
            let slot = slotOf[i]
            processOf[i] = slot + generation[slot] * max(1, processes)
            if planned[i].kind == .info { generation[slot] += 1 }
        }

        var events: [(time: Int, op: Int, completion: Bool)] = []
        events.reserveCapacity(2 * operations)
        for i in 0..<operations {
            // An operation may invoke and complete at the same instant: its invoke goes first.
            events.append((2 * invokeAt[i], i, false))
            events.append((2 * completeAt[i] + 1, i, true))
        }
        events.sort { ($0.time, $0.op) < ($1.time, $1.op) }
        var history: [ClientOperation] = []
        history.reserveCapacity(events.count)
        for (time, i, completion) in events {
            let op = planned[i]
            history.append(ClientOperation(
                index: history.count, kind: completion ? op.kind : .invoke, process: .client(processOf[i]), f: op.f,
                key: op.key, value: completion ? op.completionValue : op.invokeValue, time: UInt64(time) * 500,
                error: completion && op.kind == .info ? "timed-out" : completion && op.kind == .fail ? "compare failed" : nil))
        }
        return OperationHistory(history)
    }

    /// The same history with one `ok` read (or get) answering something nothing ever wrote, so it is
    /// certainly not linearizable; nil when the history has no such read.
    public static func corruptingOneRead(_ history: OperationHistory, seed: UInt64) -> (history: OperationHistory, index: Int)? {
        let reads = history.operations.indices.filter {
            let op = history.operations[$0]
            return op.kind == .ok && (op.f == "read" || op.f == "get") && !(op.process.isNamed)
        }
        guard !reads.isEmpty else { return nil }
        var random = SeededGenerator(seed: seed)
        let position = reads[random.below(reads.count)]
        var operations = history.operations
        switch operations[position].value {
        case .list(let items): operations[position].value = .list(items + [.integer(-1)])
        case .string(let text): operations[position].value = .string(text + "#")
        default: operations[position].value = .integer(-1)
        }
        return (OperationHistory(operations), operations[position].index)
    }
}

extension ClientOperation.Process {
    var isNamed: Bool { if case .named = self { return true } else { return false } }
}
