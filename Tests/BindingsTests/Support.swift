import Bindings
import Core
import Foundation
import Synchronization

/// Counts what the test bindings did, so tests can check for leaks and cancellations.
final class Counters: Sendable {
    private let values = Mutex<[String: Int]>([:])
    func add(_ name: String) { values.withLock { $0[name, default: 0] += 1 } }
    func value(_ name: String) -> Int { values.withLock { $0[name, default: 0] } }
}

/// A Swift object living in a userdata; counts its deinit.
final class Probe: LuaObject {
    static let luaTypeName = "Probe"
    let label: String
    let counters: Counters

    init(_ label: String, counters: Counters) {
        self.label = label; self.counters = counters
        counters.add("created")
    }
    deinit { counters.add("released") }

    var luaDescription: String { label }

    static func declareMembers(_ members: inout LuaMembers<Probe>) {
        members.field("label") { probe, ctx in ctx.push(probe.label) }
        members.method("greet") { probe, ctx in
            ctx.push("hello \(try ctx.string(2)) from \(probe.label)")
            return 1
        }
    }
}

/// Registers the test bindings: a `test` module of functions that make probes, fail, and
/// suspend on async work, the way cluster/node bindings will.
func installTestBindings(_ vm: LuaVM, _ counters: Counters) {
    var module = LuaModule("test")
    module.function("probe") { ctx in
        ctx.push(Probe(try ctx.optionalString(1) ?? "probe", counters: counters))
        return 1
    }
    // Makes a probe, then fails: the probe must still be released.
    module.function("probe_then_fail") { ctx in
        let probe = Probe("doomed", counters: counters)
        _ = probe
        throw LuaError(kind: "config", "this binding always fails")
    }
    // Suspends on an async call, then returns a userdata made from its result.
    module.function("async_probe") { ctx in
        let label = try ctx.string(1)
        return ctx.suspend({
            try await Task.sleep(nanoseconds: 1_000_000)
            return label.uppercased()
        }, then: { ctx, upper in
            ctx.push(Probe(upper, counters: counters))
            return 1
        })
    }
    // Sleeps for ever unless cancelled; counts the cancellation.
    module.function("park") { ctx in
        ctx.suspend {
            try await withTaskCancellationHandler {
                try await Task.sleep(nanoseconds: 3_600_000_000_000)
            } onCancel: {
                counters.add("cancelled")
            }
        }
    }
    module.function("runtime_error") { ctx in
        ctx.suspend {
            throw RuntimeError(.imageNotFound, engine: .docker, summary: "image 'nope:1' is not present",
                               command: ["docker", "image", "inspect", "nope:1"], exitCode: 1,
                               stderr: "Error: No such image: nope:1", hint: "build or pull it first")
        }
    }
    module.function("count") { ctx in
        ctx.push(counters.value(try ctx.string(1)))
        return 1
    }
    vm.preload(module)
}

/// Runs `source` in a fresh host with the test bindings; errors are returned, not printed.
func runLua(_ source: String, counters: Counters = Counters()) async -> LuaHost.Outcome {
    let invocation = LuaHost.Invocation(actions: [.code("test = require 'test'; " + source)]) { vm in
        installTestBindings(vm, counters)
    }
    return await LuaHost.run(invocation, settings: HostSettings(logLevel: .silent, printErrors: false))
}
