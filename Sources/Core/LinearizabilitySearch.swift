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

        // Bits: definite operations first, in invocation order, then from a fresh word those of
        // unknown outcome, which may stay unlinearized to the end and so would otherwise keep every
        // word after theirs from ever being full (see `lead`).
        let definiteWords = (definiteCount + 63) / 64
        let wordCount = definiteWords + (count - definiteCount + 63) / 64
        var bitOf = [Int](repeating: 0, count: count)
        var nextDefinite = 0, nextUnknown = definiteWords * 64
        for i in 0..<count {
            if operations[i].returnPosition != nil { bitOf[i] = nextDefinite; nextDefinite += 1 }
            else { bitOf[i] = nextUnknown; nextUnknown += 1 }
        }
        var linearized = [UInt64](repeating: 0, count: wordCount)
        var zobrist = [UInt64](repeating: 0, count: count)
        var mixer = SeededGenerator(seed: UInt64(0x5EED_C4EC_4E12))
        for i in 0..<count { zobrist[i] = mixer.next() }
        var setHash: UInt64 = 0
        // The set is stored in the memo table as the words between the leading full ones
        // (operations long since linearized) and the last non-zero one: a few words, not one bit
        // per operation of the history.
        var lead = 0   // definite words before this one are all ones
        var top = -1   // the last definite word that is not zero

        var cache = LinearizationCache<Model.State>(definiteWords: definiteWords)
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
                let word = bitOf[op] >> 6
                linearized[word] &= ~(1 << UInt64(bitOf[op] & 63))
                if word < lead { lead = word }
                if word == top { while top >= 0 && linearized[top] == 0 { top -= 1 } }
                assert(LinearizationCache<Model.State>.bounds(linearized, definiteWords) == (lead, top))
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
                let word = bitOf[op] >> 6
                let bit: UInt64 = 1 << UInt64(bitOf[op] & 63)
                linearized[word] |= bit
                var newLead = lead
                while newLead < definiteWords && linearized[newLead] == ~0 { newLead += 1 }
                let newTop = word < definiteWords ? max(top, word) : top
                let hash = (setHash ^ zobrist[op]) ^ model.hash(after)
                if cache.insert(linearized, lead: newLead, top: newTop, hash: hash, state: after) {
                    lead = newLead
                    top = newTop
                    assert(LinearizationCache<Model.State>.bounds(linearized, definiteWords) == (lead, top))
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
                linearized[word] &= ~bit
            }
            entry = next[Int(entry)]
        }
        return .linearizable
    }
}

/// The memo table: a set of (linearized set, state) pairs, open addressing over one flat array of
/// bitset words, so an insert allocates only when the table grows. A set is stored as its `lead`
/// (how many leading words are all ones) and the words from there to its last non-zero word, which
/// is the same for equal sets and short for any set the search reaches.
struct LinearizationCache<State: Hashable> {
    private var slots: [Int32]
    private var mask: Int
    private var hashes: [UInt64] = []
    private var states: [State] = []
    private var leads: [Int32] = []
    private var starts: [Int] = []
    private var lengths: [Int32] = []
    private var words: [UInt64] = []

    /// Words after these (the operations of unknown outcome) are always stored whole.
    private let definiteWords: Int

    init(definiteWords: Int) {
        self.definiteWords = definiteWords
        slots = [Int32](repeating: -1, count: 1024)
        mask = 1023
    }

    var count: Int { states.count }

    /// `lead` and `top` of a set worked out from scratch: what the search keeps up to date step by
    /// step (checked against this in debug builds).
    static func bounds(_ set: [UInt64], _ definiteWords: Int) -> (lead: Int, top: Int) {
        var lead = 0
        while lead < definiteWords && set[lead] == ~0 { lead += 1 }
        var top = definiteWords - 1
        while top >= 0 && set[top] == 0 { top -= 1 }
        return (lead, top)
    }

    /// Adds the pair; false when it was already there. `set[lead...top]` and the words after the
    /// definite ones are what is stored.
    mutating func insert(_ set: [UInt64], lead: Int, top: Int, hash: UInt64, state: State) -> Bool {
        let length = max(0, top - lead + 1)
        let unknownWords = set.count - definiteWords
        var slot = Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
        while true {
            let found = Int(slots[slot])
            if found < 0 { break }
            if hashes[found] == hash && Int(leads[found]) == lead && Int(lengths[found]) == length
                && states[found] == state && sameWords(found, set, lead, length, unknownWords) { return false }
            slot = (slot + 1) & mask
        }
        let index = states.count
        slots[slot] = Int32(index)
        hashes.append(hash)
        states.append(state)
        leads.append(Int32(lead))
        starts.append(words.count)
        lengths.append(Int32(length))
        if length > 0 { words.append(contentsOf: set[lead..<(lead + length)]) }
        if unknownWords > 0 { words.append(contentsOf: set[definiteWords...]) }
        if states.count * 2 > slots.count { grow() }
        return true
    }

    private func sameWords(_ index: Int, _ set: [UInt64], _ lead: Int, _ length: Int, _ unknownWords: Int) -> Bool {
        let start = starts[index]
        let definiteWords = definiteWords
        return words.withUnsafeBufferPointer { stored in
            set.withUnsafeBufferPointer { given in
                for i in 0..<length where stored[start + i] != given[lead + i] { return false }
                for i in 0..<unknownWords where stored[start + length + i] != given[definiteWords + i] { return false }
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
