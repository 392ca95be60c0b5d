import Testing
@testable import Core

/// Histories made from a random sequential execution and then made concurrent are linearizable by
/// construction; the same history with one read answering a value nobody wrote is not.
@Suite struct LinearizabilityPropertyTests {
    static let models: [(String, LinearizabilityModel, keys: Int)] = [
        ("register", .register, 3), ("cas-register", .casRegister, 3), ("set", .set, 2), ("kv", .kv, 4), ("etcd", .etcd, 0),
    ]

    @Test(arguments: 0..<models.count)
    func generatedHistoriesAreLinearizableAndOneCorruptReadIsNot(_ which: Int) throws {
        let (name, model, keys) = Self.models[which]
        var corrupted = 0
        for seed in UInt64(1)...30 {
            let history = LinearizableHistoryGenerator(model: model, operations: 150, keys: keys, processes: 5,
                                                       infoRate: 0.04, seed: seed).generate()
            let result = try Linearizability.check(history, model: model, timeLimit: 20)
            #expect(result.valid == .valid, "\(name), seed \(seed): \(result.keys.filter { $0.value.valid != .valid }.keys.sorted())")

            guard let (bad, index) = LinearizableHistoryGenerator.corruptingOneRead(history, seed: seed) else { continue }
            corrupted += 1
            let badResult = try Linearizability.check(bad, model: model, timeLimit: 20)
            #expect(badResult.valid == .invalid, "\(name), seed \(seed): corrupting the read at index \(index) went unnoticed")
            let badKey = bad.operations.first { $0.index == index }?.key ?? ""
            #expect(badResult.keys[badKey]?.valid == .invalid)
            #expect(badResult.keys.filter { $0.value.valid == .invalid }.count == 1)
        }
        #expect(corrupted >= 25)
    }

    @Test func manyProcessesAndUnknownOutcomes() throws {
        for seed in UInt64(100)...105 {
            let history = LinearizableHistoryGenerator(model: .casRegister, operations: 400, keys: 2, processes: 12,
                                                       infoRate: 0.03, seed: seed).generate()
            #expect(try Linearizability.check(history, model: .casRegister, timeLimit: 20).valid == .valid, "seed \(seed)")
        }
    }

    @Test func theGeneratorRepeatsForASeed() {
        let a = LinearizableHistoryGenerator(model: .kv, operations: 50, keys: 2, seed: 7).generate()
        let b = LinearizableHistoryGenerator(model: .kv, operations: 50, keys: 2, seed: 7).generate()
        #expect(a == b)
        #expect(a.operations.count == 100)
    }
}

/// The search against the definition, on small random histories that are often not linearizable:
/// a brute force that tries every order respecting real time gives the same verdict.
@Suite struct LinearizabilityBruteForceTests {
    struct Op { var call: Int; var ret: Int?; var write: Int64?; var read: Int64?? }

    /// Every order in which each operation comes after all definite ones that returned before it
    /// was invoked; unknown ones may be left out.
    static func linearizable(_ ops: [Op]) -> Bool {
        func search(_ done: [Bool], _ value: Int64?) -> Bool {
            if ops.indices.allSatisfy({ done[$0] || ops[$0].ret == nil }) { return true }
            for i in ops.indices where !done[i] {
                let blocked = ops.indices.contains { j in !done[j] && j != i && (ops[j].ret.map { $0 < ops[i].call } ?? false) }
                if blocked { continue }
                var next = done
                next[i] = true
                if let write = ops[i].write {
                    if search(next, write) { return true }
                } else if let read = ops[i].read {
                    if read == value && search(next, value) { return true }
                } else if search(next, value) { return true }
            }
            return false
        }
        return search([Bool](repeating: false, count: ops.count), nil)
    }

    @Test func theSearchAgreesWithBruteForce() throws {
        var random = SeededGenerator(seed: UInt64(2026))
        var seen = (valid: 0, invalid: 0)
        for _ in 0..<400 {
            var h = HistoryBuilder()
            var ops: [Op] = []
            var open: [Int: Int] = [:]   // process -> op
            var position = 0
            let total = 3 + random.below(5)
            var started = 0
            while started < total || !open.isEmpty {
                let process = random.below(3)
                if let i = open[process] {
                    open[process] = nil
                    let unknown = random.below(6) == 0
                    if let write = ops[i].write {
                        if unknown { h.info(process, "write") } else { h.ok(process, "write", .integer(write)); ops[i].ret = position }
                    } else {
                        let read: Int64? = random.below(4) == 0 ? nil : Int64(random.below(3))
                        if unknown { h.info(process, "read"); ops[i].read = .some(nil) }
                        else { h.ok(process, "read", read.map(OperationValue.integer) ?? .none); ops[i].read = .some(read); ops[i].ret = position }
                    }
                    if unknown { ops[i].read = ops[i].write == nil ? nil : ops[i].read }
                } else if started < total {
                    started += 1
                    if random.below(2) == 0 {
                        let value = Int64(random.below(3))
                        h.invoke(process, "write", .integer(value))
                        ops.append(Op(call: position, ret: nil, write: value, read: nil))
                    } else {
                        h.invoke(process, "read")
                        ops.append(Op(call: position, ret: nil, write: nil, read: nil))
                    }
                    open[process] = ops.count - 1
                } else { continue }
                position += 1
            }
            let expected = Self.linearizable(ops)
            let result = try Linearizability.check(h.history, model: .register, timeLimit: 10)
            #expect(result.valid == (expected ? .valid : .invalid), "\(h.operations.map { "\($0.process) \($0.kind) \($0.f) \($0.value)" })")
            if expected { seen.valid += 1 } else { seen.invalid += 1 }
        }
        #expect(seen.valid > 50 && seen.invalid > 50, "\(seen)")
    }
}

@Suite struct LinearizationCacheTests {
    /// Sets that differ only outside the stored words must still be told apart.
    @Test func equalSetsAreFoundAndDifferentOnesAreNot() {
        var random = SeededGenerator(seed: UInt64(9))
        let definiteWords = 4
        var cache = LinearizationCache<Int>(definiteWords: definiteWords)
        var inserted: Set<[UInt64]> = []
        let patterns: [UInt64] = [0, ~0, 1, 1 << 63, ~0 - 1]
        for _ in 0..<3000 {
            // Five words: four definite, one of unknown outcome.
            var set = (0..<5).map { _ in patterns[random.below(patterns.count)] }
            if random.below(2) == 0 { set[4] = 0 }
            let state = random.below(2)
            let (lead, top) = LinearizationCache<Int>.bounds(set, definiteWords)
            // One hash for all on purpose: equal hashes must not be taken for equal sets.
            let hash: UInt64 = 7
            let isNew = inserted.insert(set + [UInt64(state)]).inserted
            #expect(cache.insert(set, lead: lead, top: top, hash: hash, state: state) == isNew, "\(set) \(state)")
        }
        #expect(cache.count == inserted.count)
    }
}
