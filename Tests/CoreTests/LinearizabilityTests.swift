import Foundation
import Testing
@testable import Core

/// Builds hand-made histories: `h.invoke(0, "write", 1)`, `h.ok(0, "write", 1)`.
struct HistoryBuilder {
    var operations: [ClientOperation] = []

    mutating func add(_ kind: ClientOperation.Kind, _ process: Int, _ f: String, _ value: OperationValue = .none,
                      key: String? = nil) {
        operations.append(ClientOperation(index: operations.count, kind: kind, process: .client(process), f: f,
                                          key: key, value: value))
    }
    mutating func invoke(_ p: Int, _ f: String, _ v: OperationValue = .none, key: String? = nil) { add(.invoke, p, f, v, key: key) }
    mutating func ok(_ p: Int, _ f: String, _ v: OperationValue = .none, key: String? = nil) { add(.ok, p, f, v, key: key) }
    mutating func fail(_ p: Int, _ f: String, _ v: OperationValue = .none, key: String? = nil) { add(.fail, p, f, v, key: key) }
    mutating func info(_ p: Int, _ f: String, _ v: OperationValue = .none, key: String? = nil) { add(.info, p, f, v, key: key) }
    /// An operation that completes before the next one starts.
    mutating func done(_ p: Int, _ f: String, _ invoked: OperationValue = .none, _ result: OperationValue? = nil, key: String? = nil) {
        invoke(p, f, invoked, key: key)
        ok(p, f, result ?? invoked, key: key)
    }
    mutating func nemesis(_ kind: ClientOperation.Kind, _ f: String) {
        operations.append(ClientOperation(index: operations.count, kind: kind, process: .named("nemesis"), f: f))
    }
    var history: OperationHistory { OperationHistory(operations) }
}

func check(_ builder: HistoryBuilder, _ model: LinearizabilityModel) throws -> LinearizabilityResult {
    try Linearizability.check(builder.history, model: model, timeLimit: 10)
}

func pair(_ a: Int64, _ b: Int64) -> OperationValue { .list([.integer(a), .integer(b)]) }

@Suite struct LinearizabilityRegisterTests {
    @Test func sequentialReadsSeeTheLastWrite() throws {
        var h = HistoryBuilder()
        h.done(0, "read", .none, OperationValue.none)   // nil before any write
        h.done(0, "write", .integer(1))
        h.done(1, "read", .none, .integer(1))
        h.done(1, "write", .integer(2))
        h.done(0, "read", .none, .integer(2))
        let result = try check(h, .register)
        #expect(result.valid == .valid)
        #expect(result.keys[""]?.valid == .valid)
    }

    @Test func aReadConcurrentWithAWriteMaySeeEitherValue() throws {
        for seen in [OperationValue.none, .integer(1)] {
            var h = HistoryBuilder()
            h.invoke(0, "write", .integer(1))
            h.invoke(1, "read")
            h.ok(1, "read", seen)
            h.ok(0, "write", .integer(1))
            #expect(try check(h, .register).valid == .valid)
        }
    }

    @Test func aStaleReadIsCaughtAndNamed() throws {
        var h = HistoryBuilder()
        h.done(0, "write", .integer(1))
        h.done(1, "write", .integer(2))
        h.done(2, "read", .none, .integer(1))   // 2 was written and acknowledged before this read began
        let result = try check(h, .register)
        #expect(result.valid == .invalid)
        let key = try #require(result.keys[""])
        #expect(key.valid == .invalid)
        #expect(key.linearized.map(\.value) == [.integer(1), .integer(2)])
        #expect(key.failedOperation?.f == "read")
        #expect(key.failedOperation?.value == .integer(1))
        #expect(key.failedOperation?.index == 5)
    }

    @Test func aReadOfAValueNobodyWroteIsNotLinearizable() throws {
        var h = HistoryBuilder()
        h.invoke(0, "write", .integer(1))
        h.invoke(1, "read")
        h.ok(1, "read", .integer(3))
        h.ok(0, "write", .integer(1))
        #expect(try check(h, .register).valid == .invalid)
    }

    @Test func aFailedWriteDidNotHappen() throws {
        var h = HistoryBuilder()
        h.invoke(0, "write", .integer(5))
        h.fail(0, "write", .integer(5))
        h.done(1, "read", .none, .integer(5))
        #expect(try check(h, .register).valid == .invalid)
    }

    @Test func anUnknownWriteMayTakeEffectLateOrNever() throws {
        // Process 0's write times out; reads after it may see it (at any later point) or not.
        var seenLate = HistoryBuilder()
        seenLate.invoke(0, "write", .integer(7))
        seenLate.info(0, "write")
        seenLate.done(1, "read", .none, OperationValue.none)
        seenLate.done(1, "read", .none, .integer(7))
        seenLate.done(1, "read", .none, .integer(7))
        #expect(try check(seenLate, .register).valid == .valid)

        var never = HistoryBuilder()
        never.invoke(0, "write", .integer(7))
        never.info(0, "write")
        never.done(1, "read", .none, OperationValue.none)
        #expect(try check(never, .register).valid == .valid)

        // Once seen it cannot be unseen (no other write).
        var flicker = HistoryBuilder()
        flicker.invoke(0, "write", .integer(7))
        flicker.info(0, "write")
        flicker.done(1, "read", .none, .integer(7))
        flicker.done(1, "read", .none, OperationValue.none)
        #expect(try check(flicker, .register).valid == .invalid)
    }

    @Test func concurrentUnknownWritesAndAnOpenInvoke() throws {
        var h = HistoryBuilder()
        h.invoke(0, "write", .integer(1))
        h.invoke(1, "write", .integer(2))
        h.invoke(2, "write", .integer(3))   // never completes
        h.info(0, "write")
        h.info(1, "write")
        h.done(3, "read", .none, .integer(2))
        h.done(3, "read", .none, .integer(1))
        h.done(3, "read", .none, .integer(3))
        #expect(try check(h, .register).valid == .valid)
        h.done(3, "read", .none, .integer(2))   // 2 was overwritten by 1 and nothing can write it again
        #expect(try check(h, .register).valid == .invalid)
    }

    @Test func anUnknownReadMatchesAnything() throws {
        var h = HistoryBuilder()
        h.done(0, "write", .integer(1))
        h.invoke(1, "read")
        h.info(1, "read")
        h.done(2, "read", .none, .integer(1))
        #expect(try check(h, .register).valid == .valid)
    }

    @Test func nemesisOperationsAreIgnored() throws {
        var h = HistoryBuilder()
        h.nemesis(.invoke, "partition")
        h.done(0, "write", .integer(1))
        h.nemesis(.info, "partition")
        h.done(1, "read", .none, .integer(1))
        #expect(try check(h, .register).valid == .valid)
    }

    @Test func theRegisterHasNoCas() throws {
        var h = HistoryBuilder()
        h.done(0, "cas", pair(0, 1))
        #expect(throws: LinearizabilityError.self) { try check(h, .register) }
        do { _ = try check(h, .register) } catch let error as LinearizabilityError {
            #expect(error.message.contains("register model has no function 'cas'"))
            #expect(error.message.contains("read, write"))
        }
    }

    @Test func malformedHistoriesSayWhatIsWrong() throws {
        var orphan = HistoryBuilder()
        orphan.ok(0, "read", .integer(1))
        do { _ = try check(orphan, .register); Issue.record("no error") } catch let error as LinearizabilityError {
            #expect(error.message == "ok at index 0 for process 0 has no invoke before it: every completion follows its process's invoke")
        }
        var twice = HistoryBuilder()
        twice.invoke(0, "read")
        twice.invoke(0, "read")
        do { _ = try check(twice, .register); Issue.record("no error") } catch let error as LinearizabilityError {
            #expect(error.message.contains("process 0 invokes again at index 1"))
        }
    }

    @Test func anEmptyHistoryIsLinearizable() throws {
        #expect(try Linearizability.check(OperationHistory(), model: .register).valid == .valid)
    }
}

@Suite struct LinearizabilityCasRegisterTests {
    @Test func casAppliesOnlyWhenTheValueMatches() throws {
        for model in [LinearizabilityModel.casRegister, .etcd] {
            var h = HistoryBuilder()
            h.done(0, "write", .integer(1))
            h.done(1, "cas", pair(1, 2))
            h.done(0, "read", .none, .integer(2))
            #expect(try check(h, model).valid == .valid)

            var wrong = HistoryBuilder()
            wrong.done(0, "write", .integer(1))
            wrong.done(1, "cas", pair(3, 2))   // acknowledged, but the value was 1
            #expect(try check(wrong, model).valid == .invalid)
        }
    }

    @Test func aFailedCasIsDropped() throws {
        var h = HistoryBuilder()
        h.done(0, "write", .integer(1))
        h.invoke(1, "cas", pair(1, 2))
        h.fail(1, "cas", pair(1, 2))
        h.done(0, "read", .none, .integer(1))
        #expect(try check(h, .casRegister).valid == .valid)
    }

    @Test func anUnknownCasAppliesOnlyIfItMatched() throws {
        var h = HistoryBuilder()
        h.done(0, "write", .integer(1))
        h.invoke(1, "cas", pair(1, 2))
        h.info(1, "cas")
        h.done(0, "read", .none, .integer(2))
        #expect(try check(h, .etcd).valid == .valid)

        var unmatched = HistoryBuilder()
        unmatched.done(0, "write", .integer(1))
        unmatched.invoke(1, "cas", pair(5, 2))
        unmatched.info(1, "cas")
        unmatched.done(0, "read", .none, .integer(2))
        #expect(try check(unmatched, .etcd).valid == .invalid)
    }

    @Test func casNeedsAPair() throws {
        var h = HistoryBuilder()
        h.done(0, "cas", .integer(1))
        do { _ = try check(h, .casRegister); Issue.record("no error") } catch let error as LinearizabilityError {
            #expect(error.message == "the cas-register model needs a cas value [old, new]; the cas at index 0 has 1")
        }
    }
}

@Suite struct LinearizabilitySetTests {
    func list(_ items: Int64...) -> OperationValue { .list(items.map(OperationValue.integer)) }

    @Test func readsReturnEverythingAddedInAnyOrder() throws {
        var h = HistoryBuilder()
        h.done(0, "read", .none, list())
        h.done(0, "add", .integer(1))
        h.invoke(1, "add", .integer(2))
        h.done(2, "read", .none, list(1))          // concurrent with the add of 2
        h.ok(1, "add", .integer(2))
        h.done(2, "read", .none, list(2, 1))
        #expect(try check(h, .set).valid == .valid)
    }

    @Test func aLostElementIsCaught() throws {
        var h = HistoryBuilder()
        h.done(0, "add", .integer(1))
        h.done(0, "add", .integer(2))
        h.done(1, "read", .none, list(2))
        let result = try check(h, .set)
        #expect(result.valid == .invalid)
        #expect(result.keys[""]?.failedOperation?.value == list(2))
    }

    @Test func anElementNobodyAddedIsCaught() throws {
        var h = HistoryBuilder()
        h.done(0, "add", .integer(1))
        h.done(1, "read", .none, list(1, 9))
        #expect(try check(h, .set).valid == .invalid)
    }
}

@Suite struct LinearizabilityKeyValueTests {
    @Test func appendConcatenatesAndMissingKeysReadEmpty() throws {
        var h = HistoryBuilder()
        h.done(0, "get", .none, .string(""), key: "a")
        h.done(0, "put", .string("x"), key: "a")
        h.done(1, "append", .string("y"), key: "a")
        h.done(1, "get", .none, .string("xy"), key: "a")
        h.done(1, "get", .none, OperationValue.none, key: "b")   // nil is the missing key too
        #expect(try check(h, .kv).valid == .valid)
    }

    @Test func appendsInTheWrongOrderAreCaught() throws {
        var h = HistoryBuilder()
        h.done(0, "append", .string("x"), key: "a")
        h.done(1, "append", .string("y"), key: "a")
        h.done(1, "get", .none, .string("yx"), key: "a")
        let result = try check(h, .kv)
        #expect(result.valid == .invalid)
        #expect(result.keys["a"]?.linearized.map(\.value) == [.string("x"), .string("y")])
    }

    @Test func concurrentAppendsMayLandInEitherOrder() throws {
        var h = HistoryBuilder()
        h.invoke(0, "append", .string("x"), key: "a")
        h.invoke(1, "append", .string("y"), key: "a")
        h.ok(0, "append", .string("x"), key: "a")
        h.ok(1, "append", .string("y"), key: "a")
        h.done(2, "get", .none, .string("yx"), key: "a")
        #expect(try check(h, .kv).valid == .valid)
    }

    @Test func oneBadKeyAmongGoodOnesIsNamed() throws {
        var h = HistoryBuilder()
        for (p, key) in ["a", "b", "c", "d"].enumerated() {
            h.done(p, "put", .string("v\(p)"), key: key)
            h.done(p, "append", .string("+"), key: key)
        }
        for (p, key) in ["a", "b", "c", "d"].enumerated() {
            let seen = key == "c" ? "v2" : "v\(p)+"   // c lost its append
            h.done(p, "get", .none, .string(seen), key: key)
        }
        let result = try check(h, .kv)
        #expect(result.valid == .invalid)
        #expect(Set(result.keys.keys) == ["a", "b", "c", "d"])
        #expect(result.keys.filter { $0.value.valid == .invalid }.map(\.key) == ["c"])
        #expect(result.keys["c"]?.failedOperation?.value == .string("v2"))
        #expect(result.keys["a"]?.valid == .valid)
    }
}

/// A counter written against `SequentialModel`, as a scenario's Lua model would be.
struct CounterModel: SequentialModel {
    var initialState: OperationValue { .integer(0) }
    func step(_ state: OperationValue, invocation: ClientOperation, completion: ClientOperation?) throws -> OperationValue? {
        guard case .integer(let count) = state else { return nil }
        switch invocation.f {
        case "increment": return .integer(count + 1)
        case "read":
            guard let completion else { return state }
            return completion.value == state ? state : nil
        default: throw LinearizabilityError("counter: no function \(invocation.f)")
        }
    }
}

@Suite struct LinearizabilityCustomModelTests {
    @Test func aCustomModelIsSearchedLikeTheOthers() throws {
        var h = HistoryBuilder()
        h.invoke(0, "increment")
        h.invoke(1, "increment")
        h.done(2, "read", .none, .integer(1))
        h.ok(0, "increment")
        h.ok(1, "increment")
        h.done(2, "read", .none, .integer(2))
        #expect(try check(h, .custom(CounterModel())).valid == .valid)
        h.done(2, "read", .none, .integer(1))
        #expect(try check(h, .custom(CounterModel())).valid == .invalid)
    }

    @Test func aModelErrorReachesTheCaller() throws {
        var h = HistoryBuilder()
        h.done(0, "decrement")
        #expect(throws: LinearizabilityError("counter: no function decrement")) { try check(h, .custom(CounterModel())) }
    }
}

@Suite struct LinearizabilityTimeLimitTests {
    /// Many concurrent writes of different values and a read of a value nobody wrote: the read fits
    /// nowhere, and proving it means visiting every subset of the writes.
    static func adversarial(writers: Int) -> HistoryBuilder {
        var h = HistoryBuilder()
        for p in 0..<writers { h.invoke(p, "write", .integer(Int64(p))) }
        h.invoke(writers, "read")
        for p in 0..<writers { h.ok(p, "write", .integer(Int64(p))) }
        h.ok(writers, "read", .integer(-1))
        return h
    }

    @Test func aTimeLimitGivesUnknownNotAHang() throws {
        let started = MonotonicClock.now
        let result = try Linearizability.check(Self.adversarial(writers: 40).history, model: .register, timeLimit: 0.05)
        let seconds = Double(MonotonicClock.now - started) / 1e9
        #expect(result.valid == .unknown)
        #expect(result.keys[""]?.valid == .unknown)
        #expect(seconds < 2, "took \(seconds) s for a 0.05 s limit")
    }

    @Test func theSameShapeSmallEnoughIsDecided() throws {
        let result = try Linearizability.check(Self.adversarial(writers: 8).history, model: .register, timeLimit: 30)
        #expect(result.valid == .invalid)
        #expect(result.keys[""]?.failedOperation?.f == "read")
    }

    @Test func keysLeftWhenTimeRunsOutAreUnknownButAnInvalidKeyStillDecides() throws {
        var h = Self.adversarial(writers: 40)
        for i in h.operations.indices { h.operations[i].key = "slow" }
        h.done(100, "write", .integer(1), key: "fast")
        h.done(100, "read", .none, .integer(2), key: "fast")
        let result = try Linearizability.check(h.history, model: .register, timeLimit: 0.05)
        #expect(result.keys["fast"]?.valid == .invalid)
        #expect(result.keys["slow"]?.valid == .unknown)
        #expect(result.valid == .invalid)
    }
}
