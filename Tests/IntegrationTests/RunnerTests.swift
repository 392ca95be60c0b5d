import Foundation
import Testing
import Core

/// The test runner and the reaper against real engines: clusters a test creates go with it, the
/// error-log gate reads real node logs, and a SIGKILLed ccm-lua leaves nothing behind.
@Suite(.serialized) struct RunnerTests {
    static func unique(_ what: String, _ engine: Engine) -> String {
        "rn-\(Labels.runID.prefix(6))-\(what)-\(engine.rawValue.prefix(1))"
    }

    /// Writes a line into the node's log the way the node itself would (its stderr), then waits
    /// until the log has it, so the gate after the test sees it.
    static let inject = """
        local function inject(n, text)
          n:run({ "sh", "-c", "echo '" .. text .. "' > /proc/1/fd/2" })
          n:wait_log(text, { plain = true })
        end
        """

    @Test(arguments: Engine.allCases)
    func clustersGoWithTheirTestAndTheErrorLogGateReadsNodeLogs(_ engine: Engine) async throws {
        let first = Self.unique("first", engine), gated = Self.unique("gated", engine)
        let ignored = Self.unique("ignored", engine), kept = Self.unique("kept", engine)
        let names = [first, gated, ignored, kept]
        try await ScenarioTests.withScenario(engine, clusters: names) { scenario in
            let artifacts = scenario.folder.appendingPathComponent("artifacts").path
            let spec = try scenario.write("runner_spec.lua", Self.inject + "\n" + """
                describe("clusters", function()
                  it("creates one", function()
                    local c = cluster.create { profile = "etcd", name = "\(first)", nodes = 1 }
                    c:start()
                  end)
                  it("finds it gone", function()
                    assert.is_nil((cluster.get("\(first)")))
                  end)
                  it("logs an error", function()
                    local c = cluster.create { profile = "etcd", name = "\(gated)", nodes = 1 }
                    c:start()
                    inject(c:node(1), "2026-01-01 00:00:00.000000 E | test: injected failure")
                  end)
                  it("logs an expected error", { ignore_log_patterns = { "injected failure" } }, function()
                    local c = cluster.create { profile = "etcd", name = "\(ignored)", nodes = 1 }
                    c:start()
                    inject(c:node(1), "2026-01-01 00:00:00.000000 E | test: injected failure")
                  end)
                  it("fails an assertion", function()
                    local c = cluster.create { profile = "etcd", name = "\(kept)", nodes = 1 }
                    c:start()
                    c:node(1):etcdctl("put", "k", "v")
                    log.step("read the key", function()
                      assert.equal("w", (c:node(1):etcdctl("get", "k", "--print-value-only"):gsub("%s+$", "")))
                    end)
                  end)
                end)
                """)
            let result = try scenario.run(["test", "-o", "plain", "--keep-on-failure", "--artifacts", artifacts, spec])
            let out = result.stdout
            #expect(result.status == 1, "stderr:\n\(result.stderr)")
            #expect(out.contains("ok      \(spec): clusters creates one ("), "\(out)")
            #expect(out.contains("ok      \(spec): clusters finds it gone ("))
            #expect(out.contains("FAILED  \(spec): clusters logs an error ("))
            #expect(out.contains("node logs show errors"))
            #expect(out.contains("\(gated)/node1: 2026-01-01 00:00:00.000000 E | test: injected failure"))
            #expect(out.contains("ok      \(spec): clusters logs an expected error ("))
            #expect(out.contains("FAILED  \(spec): clusters fails an assertion ("))
            #expect(out.contains("runner_spec.lua:28: expected \"w\", got \"v\""), "\(out)")
            #expect(out.contains("in step: read the key"))
            #expect(out.contains("last log lines of \(kept)/node1:"))
            #expect(out.contains("3 passed, 2 failed in "))
            // Passed tests' clusters are gone; failed ones were kept, and say how to remove them.
            #expect(try await scenario.leftovers([first, ignored]).isEmpty)
            #expect(try await !scenario.leftovers([kept]).isEmpty)
            #expect(try await !scenario.leftovers([gated]).isEmpty)
            #expect(result.stderr.contains("kept cluster \(kept) of the failed test (remove it with `ccm-lua rm \(kept)`)"))
            // Artifacts (--artifacts: every test's): node logs among them.
            let log = try String(contentsOfFile: "\(artifacts)/clusters-logs-an-error/\(gated)-node1.log", encoding: .utf8)
            #expect(log.contains("E | test: injected failure"))
            #expect(FileManager.default.fileExists(atPath: "\(artifacts)/clusters-fails-an-assertion/\(kept)-node1.log"))
            #expect(FileManager.default.fileExists(atPath: "\(artifacts)/clusters-creates-one/\(first)-node1.log"))
            let removed = try scenario.run(["rm", gated, kept])
            #expect(removed.status == 0, "\(removed.stderr)")
            #expect(try await scenario.leftovers(names).isEmpty)
        }
    }

    /// `kill -9` of a ccm-lua whose cluster is up: its reaper removes every labelled container
    /// and network of the run (and the state folder) within 15 s, then ends.
    @Test(arguments: Engine.allCases)
    func aKilledScriptLeavesNothingWithin15Seconds(_ engine: Engine) async throws {
        let name = Self.unique("killed", engine)
        try await ScenarioTests.withScenario(engine, clusters: [name]) { scenario in
            let script = try scenario.write("killed.lua", """
                local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 3 }
                c:start()
                print("ready"); io.stdout:flush()
                sleep(600)
                """)
            let running = try scenario.start([script])
            let (found, seen) = running.waitForLine(containing: "ready")
            guard found else {
                kill(running.process.processIdentifier, SIGKILL)
                Issue.record("the script ended before it was ready: \(running.finish(alreadyRead: seen))")
                return
            }
            let runtime = CLIContainerRuntime(engine: engine)
            let containers = try await runtime.listContainers(labels: [Labels.cluster: name])
            #expect(containers.count == 3)
            let runID = try #require(containers.first?.labels[Labels.run])
            let pid = running.process.processIdentifier
            let reaper = try #require(HostProcesses.children(of: pid).first { $0.commandLine.contains("__reaper") }?.pid,
                                      "no reaper process under \(pid)")

            kill(pid, SIGKILL)
            let killed = ContinuousClock.now
            let gone = try await eventually(15) {
                let containers = try await runtime.listContainers(labels: [Labels.run: runID])
                let networks = try await runtime.listNetworks(labels: [Labels.run: runID])
                return containers.isEmpty && networks.isEmpty
            }
            let elapsed = ContinuousClock.now - killed
            let left = try await scenario.leftovers([name])
            #expect(gone, "left after 15 s: \(left)")
            print("reaper on \(engine.rawValue): nothing left \(elapsed) after kill -9")
            #expect(await eventually(10) { !FileManager.default.fileExists(atPath: scenario.home.appendingPathComponent(name).path) })
            #expect(await eventually(10) { !Self.isRunning(reaper) }, "the reaper \(reaper) is still running")
            let result = running.finish(alreadyRead: seen)
            #expect(result.stderr.contains("ccm-lua reaper: process \(pid) ended without cleaning up; removed 3 containers, 1 networks of run \(runID)"),
                    "stderr:\n\(result.stderr)")
        }
    }

    /// A script that ends normally says goodbye: its reaper leaves at once and removes nothing.
    @Test(arguments: Engine.allCases)
    func theReaperLeavesWithItsOwner(_ engine: Engine) async throws {
        let name = Self.unique("kept-by-owner", engine)
        try await ScenarioTests.withScenario(engine, clusters: [name]) { scenario in
            let script = try scenario.write("keeps.lua", """
                cluster.create { profile = "etcd", name = "\(name)", nodes = 1, keep = true }
                print("created")
                """)
            let result = try scenario.run([script])
            #expect(result.status == 0, "\(result.stderr)")
            let runtime = CLIContainerRuntime(engine: engine)
            let runID = try #require(try await runtime.listContainers(labels: [Labels.cluster: name]).first?.labels[Labels.run])
            // Once no reaper of that run is left, nothing can remove the cluster any more.
            #expect(await eventually(10) { Self.reapers(of: runID).isEmpty }, "a reaper of run \(runID) is still running")
            #expect(!result.stderr.contains("ccm-lua reaper"))
            #expect(try await scenario.leftovers([name]).count >= 2)
        }
    }

    /// Live reaper processes of a run.
    static func reapers(of runID: String) -> [Int32] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
        return pids.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let line = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
            return line.contains("__reaper --run \(runID)") && isRunning(pid)
        }
    }

    static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        // A zombie has ended; only its parent's wait is missing.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.range(of: ")", options: .backwards) else { return true }
        return !stat[close.upperBound...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}

/// `-j 4` on four files that each start a 3-node etcd cluster: faster than `-j 1`, and the
/// files' clusters (named from the same seed, each after its own file) never collide.
@Suite(.serialized) struct RunnerParallelTests {
    @Test(arguments: Engine.allCases)
    func fourFilesInParallelAreFasterAndDoNotCollide(_ engine: Engine) async throws {
        let stem = "par\(Labels.runID.prefix(6))-\(engine.rawValue.prefix(1))"
        try await ScenarioTests.withScenario(engine, clusters: []) { scenario in
            let runtime = CLIContainerRuntime(engine: engine)
            func leftovers() async throws -> [String] {
                try await runtime.listContainers(labels: [Labels.cluster: ""]).map(\.name).filter { $0.hasPrefix(stem) }
            }
            do {
                for index in 1...4 {
                    try scenario.write("suite/\(stem)-\(index)_spec.lua", """
                        it("starts a 3-node etcd cluster", function()
                          local c = cluster.create { profile = "etcd", nodes = 3 }
                          c:start()
                          c:node(1):etcdctl("put", "k", "v\(index)")
                          assert.equal("v\(index)", (c:node(3):etcdctl("get", "k", "--print-value-only"):gsub("%s+$", "")))
                        end)
                        """)
                }
                var seconds: [Int: Double] = [:]
                for width in [1, 4] {
                    let started = ContinuousClock.now
                    let result = try scenario.run(["test", "-o", "plain", "--seed", "5", "-j", String(width), "suite"])
                    let elapsed = ContinuousClock.now - started
                    seconds[width] = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    #expect(result.status == 0, "-j \(width):\n\(result.stdout)\n\(result.stderr)")
                    #expect(result.stdout.contains("4 passed in"), "-j \(width):\n\(result.stdout)")
                    #expect(try await leftovers().isEmpty, "-j \(width) left containers behind")
                }
                print("runner on \(engine.rawValue): four 3-node etcd files: -j 1 \(seconds[1]!) s, -j 4 \(seconds[4]!) s")
                #expect(seconds[4]! < seconds[1]!)
            } catch {
                for name in try await leftovers() { try? await runtime.remove(name) }
                throw error
            }
            for name in try await leftovers() { try? await runtime.remove(name) }
        }
    }
}
