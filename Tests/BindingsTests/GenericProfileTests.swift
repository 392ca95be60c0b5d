import Core
import CoreTesting
import Foundation
import Testing

/// The generic profile: any image; the spec gives the command and how to tell a node is ready.
extension FakeClusters {
    @Suite struct GenericProfileTests {
        @Test func commandEntrypointAndEnvComeFromTheSpec() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "gen", profile = "generic", image = "busybox:latest", nodes = 2,
                  command = { "httpd", "-f", "-p", 8080 }, entrypoint = { "/bin/busybox" }, env = { MODE = "test", N = 3 },
                  args = { "-v" } }
                out("profile", c.profile)
                local shell = cluster.create { name = "gen-sh", profile = "generic", image = "busybox:latest",
                  command = "echo hi && sleep 1000" }
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["profile"] == "generic")
            for node in ["node1", "node2"] {
                let spec = try #require(run.container("gen", node))
                #expect(spec.image == "busybox:latest")
                #expect(spec.command == ["httpd", "-f", "-p", "8080", "-v"])
                #expect(spec.entrypoint == ["/bin/busybox"])
                #expect(spec.env == ["MODE": "test", "N": "3"])
                #expect(spec.mounts.isEmpty)
                #expect(spec.networkAliases == [node])
            }
            #expect(run.container("gen-sh", "node1")?.command == ["sh", "-c", "echo hi && sleep 1000"])
        }

        @Test func noCommandKeepsTheImagesOwn() async throws {
            let run = try await runCluster("""
                cluster.create { name = "plain", profile = "generic", image = "busybox:latest" }
                """)
            #expect(run.error == nil, "\(run.summary)")
            let spec = try #require(run.container("plain", "node1"))
            #expect(spec.command == nil && spec.entrypoint == nil)
        }

        @Test func readyLogWaitsForTheLine() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "rlog", profile = "generic", image = "busybox:latest", nodes = 2,
                  ready = { log = "listening on port \\\\d+" } }
                local t0 = now()
                parallel(function() c:start { timeout = 10 } end, function()
                  -- Both run before either is ready: a start one after another would wait here forever.
                  local ok = pcall(wait_until, function()
                    return c:node(1):state() == "running" and c:node(2):state() == "running"
                  end, { interval = 0.01, timeout = 5 })
                  out("started together", ok and "running" or c:node(1):state() .. "/" .. c:node(2):state())
                  emit("rlog-node1", "listening on port 80")
                  emit("rlog-node2", "listening on port 81")
                end)
                out("done", "yes")
                local ok, err = pcall(function() c:node(1):restart { timeout = 0.2 } end)
                out("kind", err.kind); out("err", tostring(err)); out("node", err.node)
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["started together"] == "running", "generic nodes start in parallel")
            #expect(run.values["done"] == "yes")
            #expect(run.values["kind"] == "timeout" && run.values["node"] == "node1")
            // A restart waits for a new line: the old one is shown among the last lines, not taken.
            let err = run.values["err"] ?? ""
            #expect(err.hasPrefix(run.at(14) + "cluster 'rlog': node1 not ready within 0.2 s; "
                                  + "node1: no log line matching 'listening on port \\d+' within 0.2 s\n  last lines:\n"), "\(err)")
            #expect(err.contains("listening on port 80"), "\(err)")
        }

        @Test func readyPlainMatchesLiterally() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "rplain", profile = "generic", image = "busybox:latest",
                  ready = { log = "ready (1/1) [ok]", plain = true } }
                parallel(function() c:start { timeout = 10 } end, function()
                  wait_until(function() return c:node(1):state() == "running" end, { interval = 0.01 })
                  emit("rplain-node1", "ready (1/1) [ok]")
                end)
                out("done", "yes")
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["done"] == "yes")
        }

        @Test func readyProbeRunsUntilItPasses() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "rprobe", profile = "generic", image = "busybox:latest",
                  ready = { probe = { "wget", "-q", "-O-", "http://localhost:8080/" }, interval = 0.01 } }
                c:start { timeout = 10 }
                out("state", c:node(1):state())
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["state"] == "running")
            #expect(run.execs.first == ["wget", "-q", "-O-", "http://localhost:8080/"])
        }

        @Test func aProbeThatNeverPassesTimesOutWithWhatItSaid() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "rfail", profile = "generic", image = "busybox:latest",
                  ready = { probe = { "false" }, interval = 0.01 } }
                c:start { timeout = 0.3 }
                """, prepare: { $0.scriptExec(["false"], .result(code: 1, stderr: "not yet")) })
            let error = try #require(run.error, "\(run.summary)")
            #expect(error.kind == "timeout")
            #expect(error.text.hasPrefix(run.at(3)), "\(error.text)")
            #expect(error.message == "cluster 'rfail': node1 not ready within 0.3 s; node1: readiness probe `false` did not pass within 0.3 s (last try exited 1: not yet)",
                    "\(error.message)")
            #expect(error.node == "node1")
        }

        /// `ready.timeout` is how long start waits when the script says nothing; the script's wins.
        @Test func readyTimeoutIsStartsDefault() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "rslow", profile = "generic", image = "busybox:latest",
                  ready = { probe = { "false" }, interval = 0.01, timeout = 0.2 } }
                local ok, err = pcall(function() c:start() end)
                out("profile", err.message:match("within ([%d.]+ s)"))
                ok, err = pcall(function() c:start { timeout = 0.3 } end)
                out("script", err.message:match("within ([%d.]+ s)"))
                """, prepare: { $0.scriptExec(["false"], .result(code: 1)) })
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["profile"] == "0.2 s")
            #expect(run.values["script"] == "0.3 s")
        }

        @Test func noReadinessMeansStartedIsReady() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "rnone", profile = "generic", image = "busybox:latest", nodes = 3, start = true }
                local states = {}
                for _, s in ipairs(c:status()) do states[#states + 1] = s.state end
                out("states", table.concat(states, " "))
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["states"] == "running running running")
            #expect(run.execs.isEmpty)
        }

        @Test func aWrongReadySpecIsAUsageError() async throws {
            let run = try await runCluster("""
                local function try(spec) local ok, err = pcall(function() cluster.create(spec) end); return err end
                local e1 = try { profile = "generic", image = "busybox:latest", ready = "up" }
                local e2 = try { profile = "generic", image = "busybox:latest", ready = { logs = "up" } }
                local e3 = try { profile = "generic", image = "busybox:latest", command = 5 }
                for i, e in ipairs { e1, e2, e3 } do out("kind" .. i, e.kind); out("text" .. i, tostring(e)) end
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["kind1"] == "usage" && run.values["kind2"] == "usage" && run.values["kind3"] == "usage")
            #expect(run.values["text1"] == run.at(1) + "spec.ready must be a table, got string")
            #expect(run.values["text2"] == run.at(1) + "unknown field 'logs' in spec.ready (fields: log, plain, probe, interval, timeout)")
            #expect(run.values["text3"] == run.at(1) + "spec.command must be a table or string, got number")
        }
    }
}
