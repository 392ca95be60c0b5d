import CLua
import CLuaShim
import Core
import Foundation

/// Receives what the Lua test runner (lua/ccm/test.lua) reports. Called on the Lua thread.
public protocol TestEventSink: AnyObject, Sendable {
    /// A test begins (live progress).
    func started(file: String, name: String)
    func record(_ result: TestResult)
    /// A remark of the runner: a kept cluster, a teardown that failed.
    func note(_ text: String)
    /// The tests of a plain `ccm-lua FILE` are done: time for the summary.
    func finish()
}

/// `ccm.runner`: the host's side of the test runner. Not part of the API contract; scripts use
/// `describe`/`it` (ccm.test), which call these.
public enum TestRunnerModule {
    /// Makes `require "ccm.runner"` use `config` and report to `sink` (a later install replaces
    /// an earlier one: the `test` command replaces the default of `ccm-lua FILE`).
    public static func install(in vm: LuaVM, config: TestRunConfig, sink: any TestEventSink) {
        var module = LuaModule("ccm.runner")
        // Each test is an operation in the history too: the report groups what happened by it.
        let running = RunningTest()
        // set_deadline(seconds) -> previous: the interrupt hook raises the deadline message once
        // `seconds` have passed, even in a loop that never yields. restore_deadline(previous).
        module.function("set_deadline") { ctx in
            ctx.push(Int(ccm_set_deadline(ctx.state, try ctx.number(1))))
            return 1
        }
        module.function("restore_deadline") { ctx in
            ccm_restore_deadline(ctx.state, lua_Integer(try ctx.integer(1)))
            return 0
        }
        module.function("deadline_message") { ctx in
            ctx.push(CCM_DEADLINE_MESSAGE)
            return 1
        }
        module.function("config") { ctx in
            ctx.push(luaValue(config))
            return 1
        }
        module.function("report") { ctx in
            try ctx.checkTable(1)
            let result = try result(from: LuaData.read(at: 1, on: ctx.state, path: "result"), file: config.file)
            WorkloadRecorder.publishAll()  // the test's workload histories reach the report
            if let id = running.id {
                History.run.end(id, result: result.status.rawValue)
                running.id = nil
            }
            sink.record(result)
            return 0
        }
        module.function("started") { ctx in
            let name = try ctx.string(1)
            running.id = History.run.begin(kind: "test", name: name, targets: [], details: ["file": config.file])
            sink.started(file: config.file, name: name)
            return 0
        }
        // save_artifacts(folder, cluster_handle...): the running test's artifacts (TestArtifacts).
        module.function("save_artifacts") { ctx in
            let folder = URL(fileURLWithPath: try ctx.string(1))
            WorkloadRecorder.publishAll()
            var clusters: [Cluster] = []
            let top = lua_gettop(ctx.state)
            if top >= 2 { for i in 2...top { clusters.append(try ctx.object(i, as: ClusterHandle.self).cluster) } }
            let began = running.id.flatMap { id in History.run.events.last { $0.id == id } }
            let history = History.run.events.filter { $0.start >= began?.start ?? 0 }
            let seed = config.seed, chosen = clusters
            return ctx.suspend({ await TestArtifacts.save(chosen, into: folder, seed: seed, history: history) }) { ctx, problems in
                ctx.push(.array(problems.map { .string($0) }))
                return 1
            }
        }
        // folder_name(test name): the test's folder under the artifacts folder.
        module.function("folder_name") { ctx in
            ctx.push(TestArtifacts.folderName(try ctx.string(1)))
            return 1
        }
        module.function("note") { ctx in
            sink.note(try ctx.string(1))
            return 0
        }
        module.function("finish") { _ in
            sink.finish()
            return 0
        }
        // steps(): the log.step names of the running coroutine, outermost first.
        module.function("steps") { ctx in
            ctx.push(.array((ctx.vm.scheduler.current?.steps ?? []).map { .string($0) }))
            return 1
        }
        // steps_handle(): the running coroutine's steps, readable later from another coroutine
        // (the watchdog names the step a timed-out test was in).
        module.function("steps_handle") { ctx in
            guard let coroutine = ctx.vm.scheduler.current else { ctx.pushNil(); return 1 }
            ctx.push(CoroutineSteps(coroutine))
            return 1
        }
        module.function("seed") { ctx in
            ctx.push(Int(config.seed))
            return 1
        }
        vm.preload(module)
    }

    static func luaValue(_ config: TestRunConfig) -> LuaValue {
        func list(_ items: [String]) -> LuaValue { .array(items.map { .string($0) }) }
        var table: [String: LuaValue] = [
            "filter": list(config.filter), "filter_out": list(config.filterOut), "tags": list(config.tags),
            "exclude_tags": list(config.excludeTags), "list": .boolean(config.list), "shuffle": .boolean(config.shuffle),
            "seed": .integer(Int(config.seed)), "repeat_count": .integer(config.repeatCount),
            "exit_first": .boolean(config.exitFirst), "keep_on_failure": .boolean(config.keepOnFailure),
            "timeout": .number(config.timeout), "file": .string(config.file),
        ]
        if let artifacts = config.artifacts { table["artifacts"] = .string(artifacts) }
        table["artifacts_every_test"] = .boolean(config.artifactsEveryTest)
        return .table(table)
    }

    /// A result table from test.lua as a Core `TestResult`.
    static func result(from value: ConfigValue, file: String) throws -> TestResult {
        func string(_ key: String) -> String? { if case .string(let s)? = value[key] { s } else { nil } }
        func number(_ key: String) -> Double? {
            switch value[key] {
            case .double(let d)?: d
            case .int(let i)?: Double(i)
            default: nil
            }
        }
        func strings(_ item: ConfigValue?) -> [String] {
            guard case .list(let items)? = item else { return [] }
            return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        guard let statusText = string("status"), let status = TestStatus(rawValue: statusText), let name = string("name") else {
            throw LuaError(kind: "usage", "a test result needs a status and a name")
        }
        var logs: [NodeLogTail]?
        if case .list(let tails)? = value["logs"] {
            logs = tails.compactMap { tail in
                guard case .string(let node)? = tail["node"] else { return nil }
                return NodeLogTail(node: node, lines: strings(tail["lines"]))
            }
        }
        return TestResult(file: string("file") ?? file, name: name, status: status, duration: number("duration") ?? 0,
                          message: string("message"), traceback: string("traceback"), step: string("step"),
                          logs: logs, tags: strings(value["tags"]), repetition: number("repetition").map { Int($0) })
    }
}

/// The default sink of `ccm-lua FILE`: a line per test on stdout as it ends, the summary at the end.
final class ConsoleTestSink: TestEventSink {
    private let console: TestConsole

    init() { console = TestConsole(format: isatty(1) != 0 ? .utf : .plain, seed: RunSeed.current) }

    func started(file: String, name: String) { console.started(test: name) }
    func record(_ result: TestResult) { console.record(result) }
    func note(_ text: String) { console.note(text) }
    func finish() { console.finish() }
}

/// A scheduled coroutine's `log.step` names, read by another coroutine (a weak reference: the
/// coroutine may have finished).
final class CoroutineSteps: LuaObject {
    static let luaTypeName = "ccm.CoroutineSteps"
    weak var coroutine: Coroutine?

    init(_ coroutine: Coroutine) { self.coroutine = coroutine }

    static func declareMembers(_ members: inout LuaMembers<CoroutineSteps>) {
        members.method("innermost") { object, ctx in
            guard let step = object.coroutine?.steps.last else { ctx.pushNil(); return 1 }
            ctx.push(step)
            return 1
        }
    }
}

/// The history id of the test running now (touched on the Lua thread only).
final class RunningTest: @unchecked Sendable {
    var id: Int?
}
