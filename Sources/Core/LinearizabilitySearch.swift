/// A model compiled for one object's operations: the search hands it operation numbers (positions
/// in `operations`) and states, never `ClientOperation`s, so built-in models can work on small
/// integers.
protocol SearchModel {
    associatedtype State: Hashable
    /// The object's operations in invocation order.
    var operations: [CheckedOperation] { get }
    var initialState: State { get }
    /// The state after `operation` took effect in `state` with its recorded completion, or nil when
    /// that completion is impossible there.
    mutating func step(_ state: State, _ operation: Int) throws -> State?
    /// A hash of `state` for the memo table; `hashValue` is fine, integers can do better.
    func hash(_ state: State) -> UInt64
}

extension SearchModel {
    func hash(_ state: State) -> UInt64 { UInt64(bitPattern: Int64(state.hashValue)) }
}

enum SearchOutcome: Equatable {
    case linearizable
    /// `prefix`: the longest linearization found (operation numbers, in order); `failed`: the
    /// operation that had to come next and could not.
    case notLinearizable(prefix: [Int], failed: Int)
    case timedOut
}

/// The Wing & Gong search as Lowe (2017) improved it, with Horn & Kroening's per-object split done
/// by the caller.
///
/// The history is a list of call and return entries in history order. The search walks it from the
/// front: at a call, it tries to linearize that operation now (the model accepts it from the current
/// state, and the pair (set of linearized operations, state) has not been seen before), and if so
/// removes the operation's call and return from the list and starts again from the front. Reaching
/// a return means the operation it belongs to should have been linearized already: undo the last
/// choice and try the next call after it. The memo table of (linearized set, state) is what makes
/// this practical: two orders that reach the same set and state have the same future, so it is
/// explored once.
///
/// An operation with an unknown outcome has no return entry (it returns at +infinity) and need not be
/// linearized at all: the search succeeds once every definite operation is linearized.
enum LinearizationSearch {
    /// How many steps between two looks at the clock.
    static let clockInterval = 256

    static func run<Model: SearchModel>(_ model: inout Model, deadline: UInt64?) throws -> SearchOutcome {
        let operations = model.operations
        let count = operations.count
        if count == 0 { return .linearizable }

        // Entries: call of op i is 2i, its return 2i+1; `order` lists them by history position.
        var order: [(position: Int, entry: Int32)] = []
        order.reserveCapacity(2 * count)
        var definiteCount = 0
        for (i, operation) in operations.enumerated() {
            order.append((operation.callPosition, Int32(2 * i)))
            if let returnPosition = operation.returnPosition {
                order.append((returnPosition, Int32(2 * i + 1)))
                definiteCount += 1
            }
        }
        if definiteCount == 0 { return .linearizable }
        order.sort { $0.position < $1.position }

        // A doubly linked list over entry numbers; `head` is the sentinel, -1 the end.
        let head = 2 * count
        var next = [Int32](repeating: -1, count: 2 * count + 1)
        var previous = [Int32](repeating: -1, count: 2 * count + 1)
        var last = Int32(head)
        for (_, entry) in order {
            next[Int(last)] = entry
            previous[Int(entry)] = last
            last = entry
        }
        var hasReturn = [Bool](repeating: false, count: count)
        for i in 0..<count { hasReturn[i] = operations[i].returnPosition != nil }

        let wordCount = (count + 63) / 64
        var linearized = [UInt64](repeating: 0, count: wordCount)
        var zobrist = [UInt64](repeating: 0, count: count)
        var mixer = SeededGenerator(seed: UInt64(0x5EED_C4EC_4E12))
        for i in 0..<count { zobrist[i] = mixer.next() }
        var setHash: UInt64 = 0

        var cache = LinearizationCache<Model.State>(wordCount: wordCount)
        var state = model.initialState
        var stackOperations: [Int32] = []
        var stackStates: [Model.State] = []
        stackOperations.reserveCapacity(count)
        stackStates.reserveCapacity(count)
        var remaining = definiteCount
        var best: (prefix: [Int32], failed: Int32)? = nil

        var entry = next[head]
        var steps = 0
        while remaining > 0 {
            steps &+= 1
            if steps % clockInterval == 0, let deadline, MonotonicClock.now > deadline { return .timedOut }

            if entry < 0 || entry & 1 == 1 {
                // A return (or the end): its operation should have been linearized by now.
                if entry >= 0, stackOperations.count > (best?.prefix.count ?? -1) {
                    best = (stackOperations, entry >> 1)
                }
                guard let undone = stackOperations.popLast() else {
                    let found = best ?? ([], entry >> 1)
                    return .notLinearizable(prefix: found.prefix.map(Int.init), failed: Int(found.failed))
                }
                let op = Int(undone)
                state = stackStates.removeLast()
                linearized[op >> 6] &= ~(1 << UInt64(op & 63))
                setHash ^= zobrist[op]
                if hasReturn[op] {
                    remaining += 1
                    let r = 2 * op + 1
                    if next[r] >= 0 { previous[Int(next[r])] = Int32(r) }
                    next[Int(previous[r])] = Int32(r)
                }
                let c = 2 * op
                if next[c] >= 0 { previous[Int(next[c])] = Int32(c) }
                next[Int(previous[c])] = Int32(c)
                entry = next[c]
                continue
            }

            let op = Int(entry >> 1)
            if let after = try model.step(state, op) {
                let bit: UInt64 = 1 << UInt64(op & 63)
                linearized[op >> 6] |= bit
                let hash = (setHash ^ zobrist[op]) ^ model.hash(after)
                if cache.insert(linearized, hash: hash, state: after) {
                    stackOperations.append(Int32(op))
                    stackStates.append(state)
                    state = after
                    setHash ^= zobrist[op]
                    if hasReturn[op] { remaining -= 1 }
                    // Remove the call and the return from the list.
                    let c = 2 * op
                    next[Int(previous[c])] = next[c]
                    if next[c] >= 0 { previous[Int(next[c])] = previous[c] }
                    if hasReturn[op] {
                        let r = 2 * op + 1
                        next[Int(previous[r])] = next[r]
                        if next[r] >= 0 { previous[Int(next[r])] = previous[r] }
                    }
                    entry = next[head]
                    continue
                }
                linearized[op >> 6] &= ~bit
            }
            entry = next[Int(entry)]
        }
        return .linearizable
    }
}

/// The memo table: a set of (linearized set, state) pairs, open addressing over one flat array of
/// bitset words, so an insert allocates only when the table grows.
struct LinearizationCache<State: Hashable> {
    private let wordCount: Int
    private var slots: [Int32]
    private var mask: Int
    private var hashes: [UInt64] = []
    private var states: [State] = []
    private var words: [UInt64] = []

    init(wordCount: Int) {
        self.wordCount = wordCount
        slots = [Int32](repeating: -1, count: 1024)
        mask = 1023
    }

    var count: Int { states.count }

    /// Adds the pair; false when it was already there.
    mutating func insert(_ set: [UInt64], hash: UInt64, state: State) -> Bool {
        var slot = Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
        while true {
            let found = Int(slots[slot])
            if found < 0 { break }
            if hashes[found] == hash && states[found] == state && sameSet(found, set) { return false }
            slot = (slot + 1) & mask
        }
        let index = states.count
        slots[slot] = Int32(index)
        hashes.append(hash)
        states.append(state)
        words.append(contentsOf: set)
        if states.count * 2 > slots.count { grow() }
        return true
    }

    private func sameSet(_ index: Int, _ set: [UInt64]) -> Bool {
        let start = index * wordCount
        return words.withUnsafeBufferPointer { stored in
            set.withUnsafeBufferPointer { given in
                for i in 0..<wordCount where stored[start + i] != given[i] { return false }
                return true
            }
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        for (index, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }
}
