import Core
import CoreTesting
import Foundation
import Testing

/// Options tables and method calls are checked where the script calls: a misspelt option, a value
/// of the wrong type or a dot for a colon is a "usage" error at the script's line, and nothing
/// reaches the engine.
extension FakeClusters {
    @Suite struct OptionCheckTests {
        struct Case: CustomTestStringConvertible, Sendable {
            var call: String
            var message: String
            var testDescription: String { call }
        }

        /// Each call is on line 3 of the script, after a one-node cluster `c` with node `n`, of a
        /// profile with no readiness check (so a start that should have failed returns at once)
        /// and one helper method, `n:hello()`.
        static let badCalls: [Case] = [
            Case(call: "n:start{timout = 5}",
                 message: "n:start: unknown option 'timout' (did you mean 'timeout'? known: wait, timeout)"),
            Case(call: "c:start{wiat = false}",
                 message: "c:start: unknown option 'wiat' (did you mean 'wait'? known: wait, timeout)"),
            Case(call: #"c:run_once{image = "busybox:latest", volumes = {"/tmp:/tmp"}}"#,
                 message: "c:run_once: unknown option 'volumes' (known: image, command, entrypoint, env, timeout)"),
            Case(call: "c:stop{gentle = false}",
                 message: "c:stop: unknown option 'gentle' (did you mean 'gently'? known: gently, timeout)"),
            Case(call: "n:stop{timeout = '5'}", message: "n:stop: option 'timeout' must be a number, got string"),
            Case(call: "n:restart{stop_timout = 1}",
                 message: "n:restart: unknown option 'stop_timout' (did you mean 'stop_timeout'? known: wait, timeout, gently, stop_timeout)"),
            Case(call: #"n:exec("ls", {timeout = "5"})"#, message: "n:exec: option 'timeout' must be a number, got string"),
            Case(call: #"n:exec("ls", {cwd = "/"})"#,
                 message: "n:exec: unknown option 'cwd' (known: env, user, workdir, timeout, stdin)"),
            Case(call: #"n:run("ls", {enviroment = {}})"#,
                 message: "n:run: unknown option 'enviroment' (known: env, user, workdir, timeout, stdin)"),
            Case(call: #"n:wait_log("x", {count = 1.5})"#, message: "n:wait_log: option 'count' must be an integer, got number"),
            Case(call: #"n:wait_log("x", {from = c})"#,
                 message: "n:wait_log: option 'from' must be a ccm.LogMark or number, got ccm.Cluster"),
            Case(call: #"n:grep_log("x", {timeout = 1})"#, message: "n:grep_log: unknown option 'timeout' (known: from, plain)"),
            Case(call: "n:logs{tial = 5}", message: "n:logs: unknown option 'tial' (did you mean 'tail'? known: tail)"),
            Case(call: #"c:wait_log_all("x", {timeout = 1, plian = true})"#,
                 message: "c:wait_log_all: unknown option 'plian' (did you mean 'plain'? known: from, timeout, count, plain)"),
            Case(call: #"c:add_node{start = "yes"}"#, message: "c:add_node: option 'start' must be a boolean, got string"),
            Case(call: #"c:add_service{name = "s", image = "busybox:latest", volume = {}}"#,
                 message: "c:add_service: unknown option 'volume' (did you mean 'volumes'? known: name, image, command, entrypoint, env, volumes, ports)"),
            Case(call: "wait_until(function() return true end, {timeotu = 1})",
                 message: "wait_until: unknown option 'timeotu' (did you mean 'timeout'? known: timeout, interval)"),
            Case(call: #"exec.host("true", {tiemout = 1})"#,
                 message: "exec.host: unknown option 'tiemout' (did you mean 'timeout'? known: env, workdir, timeout, stdin)"),
            Case(call: "n:start(5)", message: "bad argument #1 to 'start' (options table expected, got number)"),
            Case(call: "n:exec(c)", message: "bad argument #1 to 'exec' (string or table expected, got ccm.Cluster)"),
            Case(call: #"n.exec("ls")"#, message: "calling 'exec' on bad self (use ':' to call a method)"),
            Case(call: #"n.exec{"ls"}"#, message: "calling 'exec' on bad self (use ':' to call a method)"),
            Case(call: "n.start()", message: "calling 'start' on bad self (use ':' to call a method)"),
            Case(call: #"n.exec(c, "ls")"#, message: "calling 'exec' on bad self (ccm.Node expected, got ccm.Cluster)"),
            Case(call: "c.start{wait = false}", message: "calling 'start' on bad self (use ':' to call a method)"),
            Case(call: "c.status()", message: "calling 'status' on bad self (use ':' to call a method)"),
            Case(call: #"n.hello("you")"#, message: "calling 'hello' on bad self (use ':' to call a method)"),
        ]

        @Test(arguments: badCalls) func aBadCallIsAUsageErrorAtTheScriptLine(_ bad: Case) async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "opts", profile = "plain" }
                local n = c:node(1)
                \(bad.call)
                """, modules: ["plain": Self.profile])
            let error = try #require(run.error, "no error: \(run.summary)")
            #expect(error.kind == "usage", "\(error)")
            #expect(error.message == bad.message)
            #expect(error.text == run.at(3) + bad.message)
            #expect(run.fake.calls("startContainer").isEmpty && run.fake.calls("exec").isEmpty, "nothing reached the engine")
        }

        static let profile = """
            return { name = "plain", image = function() return "busybox:latest" end,
                     node = function() return { command = { "sleep", "1000" } } end,
                     methods = { hello = function(n, who) return n.name .. " greets " .. who end } }
            """

        @Test func knownOptionsStillWork() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "good", nodes = 2, profile = "plain" }
                c:start { wait = false }
                local n = c:node(1)
                n:stop { gently = false }
                n:start { wait = false, timeout = 5 }
                out("code", n:exec({ "true" }, { env = { A = "1" }, workdir = "/", timeout = 9 }).code)
                out("logs", n:logs { tail = 5 })
                out("grep", #n:grep_log("x", { from = n:mark_log(), plain = true }))
                wait_until(function() return true end, { timeout = 1, interval = 0.1 })
                out("hello", n:hello("you"))
                """, modules: ["plain": Self.profile])
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["code"] == "0")
            #expect(run.values["grep"] == "0")
            #expect(run.values["hello"] == "node1 greets you")
        }

        @Test func defaultTimeLimitsComeFromCore() async throws {
            let run = try await runCluster("""
                out("defaults", require("ccm.core").defaults())
                """)
            #expect(run.error == nil, "\(run.summary)")
            let expected: [String: Double] = [
                "start_timeout": Defaults.startTimeout, "stop_timeout": Defaults.stopTimeout,
                "wait_log_timeout": Defaults.waitLogTimeout, "wait_until_timeout": Defaults.waitUntilTimeout,
                "wait_until_interval": Defaults.waitUntilInterval, "run_once_timeout": Defaults.runOnceTimeout,
            ]
            let decoded = try JSONDecoder().decode([String: Double].self, from: Data((run.values["defaults"] ?? "").utf8))
            #expect(decoded == expected)
        }
    }
}
