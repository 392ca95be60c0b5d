import Foundation
import Testing
import Core

/// What a script sees of a node's log, a node that dies, its address, and a one-shot container,
/// on both engines: the same answer on Docker and Podman.
@Suite(.serialized) struct NodeFailureAndOutputTests {
    static let base = Integration.baseImage

    /// Five identical lines written at once (Podman stamps them with one time), counted by
    /// grep_log and wait_log, and again after the container restarted.
    @Test(arguments: Engine.allCases)
    func identicalLinesAreAllKeptAcrossARestart(_ engine: Engine) async throws {
        let name = ScenarioTests.unique("same", engine)
        try await ScenarioTests.withScenario(engine, clusters: [name]) { scenario in
            let script = try scenario.write("same.lua", """
                local c = cluster.create { profile = "generic", name = "\(name)", image = "\(Self.base)",
                                           command = "printf 'same-line\\\\nsame-line\\\\nsame-line\\\\nsame-line\\\\nsame-line\\\\n'; echo done-marker; exec sleep 600" }
                local n = c:node(1)
                c:start()
                n:wait_log("done-marker", { plain = true, timeout = 30 })
                print("grep: " .. #n:grep_log("same-line", { plain = true }))
                print("wait: " .. #n:wait_log("same-line", { plain = true, count = 5, timeout = 5 }))
                n:stop { gently = false }
                n:start()
                n:wait_log("done-marker", { plain = true, count = 2, timeout = 30 })
                print("after restart: " .. #n:grep_log("same-line", { plain = true }) .. " " .. #n:grep_log("done-marker", { plain = true }))
                """)
            try await scenario.expectSuccess(script, printing: ["grep: 5", "wait: 5", "after restart: 10 2"], leaving: [name])
        }
    }

    /// A node whose program exits at once (a config error) fails the start within seconds, with
    /// its name, exit code and last lines, whether readiness is a log line or a probe; a log wait
    /// on the stopped node fails as fast.
    @Test(arguments: Engine.allCases)
    func aNodeThatExitsAtStartFailsTheStartAtOnce(_ engine: Engine) async throws {
        let byLog = ScenarioTests.unique("crash", engine), byProbe = ScenarioTests.unique("crashp", engine)
        try await ScenarioTests.withScenario(engine, clusters: [byLog, byProbe]) { scenario in
            let script = try scenario.write("crash.lua", """
                local function try_start(name, ready)
                  local c = cluster.create { profile = "generic", name = name, image = "\(Self.base)", ready = ready,
                                             command = "echo 'config error: bad option' >&2; exit 3" }
                  local began = now()
                  local ok, err = pcall(function() c:start { timeout = 100 } end)
                  print(("%s: ok=%s kind=%s code=%s fast=%s node=%s"):format(ready.log and "log" or "probe", tostring(ok), err.kind,
                        tostring(err.code), tostring(now() - began < 10), tostring(err.node)))
                  print(("%s says: %s %s"):format(ready.log and "log" or "probe", tostring(err.message:find("code 3", 1, true) ~= nil),
                        tostring(tostring(err):find("config error: bad option", 1, true) ~= nil)))
                  return c
                end
                local c = try_start("\(byLog)", { log = "never printed" })
                try_start("\(byProbe)", { probe = { "true" } })
                local began = now()
                local ok, err = pcall(function() return c:node(1):wait_log("never printed", { timeout = 100 }) end)
                print(("wait_log: ok=%s kind=%s code=%s fast=%s"):format(tostring(ok), err.kind, tostring(err.code), tostring(now() - began < 10)))
                """)
            try await scenario.expectSuccess(script, printing: [
                "log: ok=false kind=exited code=3 fast=true node=node1", "log says: true true",
                "probe: ok=false kind=exited code=3 fast=true node=node1", "probe says: true true",
                "wait_log: ok=false kind=exited code=3 fast=true",
            ], leaving: [byLog, byProbe])
        }
    }

    @Test(arguments: Engine.allCases)
    func statusAndIPAgreeThatAStoppedNodeHasNoAddress(_ engine: Engine) async throws {
        let name = ScenarioTests.unique("ip", engine)
        try await ScenarioTests.withScenario(engine, clusters: [name]) { scenario in
            let script = try scenario.write("ip.lua", """
                local c = cluster.create { profile = "generic", name = "\(name)", image = "\(Self.base)", command = "exec sleep 600" }
                c:start()
                local s = c:status()[1]
                print("running: " .. tostring(s.ip ~= nil and s.ip == c:node(1):ip()))
                c:node(1):stop { gently = false }
                s = c:status()[1]
                print(("stopped: %s %s %s"):format(s.state, tostring(s.ip), tostring(c:node(1):ip())))
                """)
            try await scenario.expectSuccess(script, printing: ["running: true", "stopped: exited nil nil"], leaving: [name])
        }
    }

    /// stdout and stderr apart, in the same order on both engines; a one-shot container that
    /// cannot start says what it printed instead of pointing at a container that is gone.
    @Test(arguments: Engine.allCases)
    func runOnceKeepsStdoutAndStderrApart(_ engine: Engine) async throws {
        let name = ScenarioTests.unique("once", engine)
        try await ScenarioTests.withScenario(engine, clusters: [name]) { scenario in
            let script = try scenario.write("once.lua", """
                local c = cluster.create { profile = "generic", name = "\(name)", image = "\(Self.base)", command = "exec sleep 600" }
                local function flat(s) return (s:gsub("\\n", "|")) end
                local r = c:run_once { image = "\(Self.base)", command = "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 3" }
                print(("once: %d %s %s"):format(r.code, flat(r.stdout), flat(r.stderr)))
                local ok, err = pcall(function() return c:run_once { image = "\(Self.base)", entrypoint = { "/no/such/program" } } end)
                print(("cannot start: ok=%s kind=%s points at logs=%s"):format(tostring(ok), err.kind,
                      tostring(err.message:find("\(engine.rawValue) logs", 1, true) ~= nil)))
                local ok2, err2 = pcall(function() return c:run_once { image = "\(Self.base)", command = "true", timeout = "soon" } end)
                print(("bad timeout: %s %s"):format(err2.kind, tostring(err2.message:find("timeout", 1, true) ~= nil)))
                """)
            try await scenario.expectSuccess(script, printing: [
                "once: 3 out1|out2| err1|err2|",
                "cannot start: ok=false kind=runtime points at logs=false",
                "bad timeout: usage true",
            ], leaving: [name])
        }
    }
}
