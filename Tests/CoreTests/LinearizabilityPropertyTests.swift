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
