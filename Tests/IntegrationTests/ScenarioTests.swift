import Foundation
import Testing
import Core

/// Scripts run by the real `ccm-lua` binary against Docker and Podman: what a user sees, and
/// what is left on the machine afterwards (nothing, unless the script kept a cluster).
@Suite(.serialized) struct ScenarioTests {
    static func unique(_ what: String, _ engine: Engine) -> String {
        "sc-\(Labels.runID.prefix(6))-\(what)-\(engine.rawValue.prefix(1))"
    }

    /// A scenario on `engine` whose clusters are removed afterwards even if the test fails.
    static func withScenario(_ engine: Engine, clusters: [String], _ body: (Scenario) async throws -> Void) async throws {
        _ = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let scenario = try Scenario(engine: engine)
        do {
            try await body(scenario)
            await scenario.removeAll(clusters)
        } catch {
            await scenario.removeAll(clusters)
            throw error
        }
    }

    @Test(arguments: Engine.allCases)
    func theEtcdFailoverExampleRunsToTheEnd(_ engine: Engine) async throws {
        let script = Scenario.repository.appendingPathComponent("examples/etcd-failover.lua").path
        var created: [String] = []
        try await Self.withScenario(engine, clusters: []) { scenario in
            let result = try scenario.run([script])
            created = result.stderr.matches(of: /done: (\S+) survived/).map { String($0.1) }
            #expect(result.status == 0, "stderr:\n\(result.stderr)")
            #expect(result.stderr.contains("leader is node"))
            #expect(result.stderr.contains("new leader is node"))
            #expect(result.stderr.contains("✓ check it rejoined with every write"))
            #expect(created.count == 1)
            #expect(try await scenario.leftovers(created).isEmpty)
            await scenario.removeAll(created)
        }
    }

    @Test(arguments: Engine.allCases)
    func aScriptThatFailsHalfWayLeavesNothing(_ engine: Engine) async throws {
        let name = Self.unique("fails", engine)
        try await Self.withScenario(engine, clusters: [name]) { scenario in
            let script = try scenario.write("fails.lua", """
                local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 2 }
                c:start()
                print(#c:nodes() .. " nodes up")
                error("the check failed")
                """)
            let result = try scenario.run([script])
            #expect(result.status == 1)
            #expect(result.stdout.contains("2 nodes up"))
            #expect(result.stderr.contains("fails.lua:4: the check failed"), "stderr:\n\(result.stderr)")
            #expect(result.stderr.contains("traceback"))
            #expect(try await scenario.leftovers([name]).isEmpty)
        }
    }

    /// Ctrl-C says what the script was doing and what cleanup did, and leaves nothing.
    @Test(arguments: Engine.allCases)
    func ctrlCLeavesNothing(_ engine: Engine) async throws {
        let waiting = Self.unique("sigint", engine), busy = Self.unique("busy", engine)
        try await Self.withScenario(engine, clusters: [waiting, busy]) { scenario in
            for (name, body, doing) in [(waiting, "sleep(600)", "interrupted in 'sleep' at "), (busy, "while true do end", "interrupted at ")] {
                let script = try scenario.write("\(name).lua", """
                    local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 2 }
                    c:start()
                    print("ready"); io.stdout:flush()
                    \(body)
                    """)
                let running = try scenario.start(["-q", "-q", script])
                let (found, seen) = running.waitForLine(containing: "ready")
                try #require(found, "the script ended before it was ready: \(running.finish(alreadyRead: seen))")
                running.process.interrupt()  // SIGINT, as Ctrl-C
                let result = running.finish(alreadyRead: seen)
                #expect(result.status == 130, "\(body): stderr:\n\(result.stderr)")
                // A long script path reads shortened ("...sigint-d.lua:4"), as Lua shows it.
                let lines = result.stderr.split(separator: "\n").map(String.init)
                #expect(lines.count == 2, "\(body): stderr:\n\(result.stderr)")
                #expect(lines.first?.hasPrefix("ccm-lua: \(doing)") == true && lines.first?.hasSuffix("\(name).lua:4") == true,
                        "\(body): stderr:\n\(result.stderr)")
                #expect(lines.last == "ccm-lua: removed cluster \(name)", "\(body): stderr:\n\(result.stderr)")
                #expect(try await scenario.leftovers([name]).isEmpty, "\(body) left resources behind")
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func ctrlCSaysAKeptClusterStays(_ engine: Engine) async throws {
        let name = Self.unique("kept", engine)
        try await Self.withScenario(engine, clusters: [name]) { scenario in
            let script = try scenario.write("\(name).lua", """
                local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 1, keep = true }
                log.step("wait", function()
                  print("ready"); io.stdout:flush()
                  sleep(600)
                end)
                """)
            let running = try scenario.start(["-q", "-q", script])
            let (found, seen) = running.waitForLine(containing: "ready")
            try #require(found, "the script ended before it was ready: \(running.finish(alreadyRead: seen))")
            running.process.interrupt()
            let result = running.finish(alreadyRead: seen)
            #expect(result.status == 130)
            let lines = result.stderr.split(separator: "\n").map(String.init)
            #expect(lines.count == 2, "stderr:\n\(result.stderr)")
            #expect(lines.first?.hasPrefix("ccm-lua: interrupted in 'sleep' at ") == true
                    && lines.first?.hasSuffix("\(name).lua:4 (step 'wait')") == true, "stderr:\n\(result.stderr)")
            #expect(lines.last == "ccm-lua: kept cluster \(name) (remove it with `ccm-lua rm \(name)`)", "stderr:\n\(result.stderr)")
            #expect(try await scenario.leftovers([name]).isEmpty == false, "a kept cluster stays")
        }
    }

    @Test(arguments: Engine.allCases)
    func aSecondProcessAttachesToAKeptCluster(_ engine: Engine) async throws {
        let name = Self.unique("attach", engine)
        try await Self.withScenario(engine, clusters: [name]) { scenario in
            let first = try scenario.write("first.lua", """
                local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 3, keep = true }
                c:start()
                c:node(1):etcdctl("put", "greeting", "hello")
                local ips = {}
                for _, n in ipairs(c:nodes()) do ips[#ips + 1] = n.name .. "=" .. n:ip() end
                print(table.concat(ips, " "))
                print("mark=" .. c:node(2):mark_log().offset)
                """)
            let one = try scenario.run([first])
            #expect(one.status == 0, "stderr:\n\(one.stderr)")
            let ips = try #require(one.stdout.split(separator: "\n").first.map(String.init))
            let mark = try #require(one.stdout.firstMatch(of: /mark=(\d+)/).map { String($0.1) })

            let second = try scenario.write("second.lua", """
                local c = assert(cluster.get("\(name)"))
                local ips = {}
                for _, n in ipairs(c:nodes()) do ips[#ips + 1] = n.name .. "=" .. n:ip() end
                print(table.concat(ips, " "))
                print("value=" .. c:node(3):etcdctl("get", "greeting", "--print-value-only"))
                local n2 = c:node(2)
                n2:restart()
                -- A mark taken by the first process still counts: only this restart's ready line is after it.
                local lines = n2:wait_log("ready to serve client requests", { from = \(mark), count = 1, timeout = 60 })
                print("after mark: " .. #n2:grep_log("ready to serve client requests", { from = \(mark) }))
                -- The spec was kept with the cluster: this process can grow it too.
                local n4 = c:add_node { start = true }
                print("grown to " .. #c:nodes() .. ", " .. n4.name .. " reads " .. n4:etcdctl("get", "greeting", "--print-value-only"):gsub("%s+$", ""))
                c:remove()
                print(tostring(cluster.get("\(name)")))
                """)
            let two = try scenario.run([second])
            #expect(two.status == 0, "stderr:\n\(two.stderr)")
            let lines = two.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == ips, "the second process sees other nodes or addresses")
            #expect(lines.contains("value=hello"))
            #expect(lines.contains("after mark: 1"))
            #expect(lines.contains("grown to 4, node4 reads hello"), "\(two.stdout)")
            #expect(lines.last == "nil")
            #expect(try await scenario.leftovers([name]).isEmpty)
        }
    }

    @Test(arguments: Engine.allCases)
    func twoScenariosAtOnceDoNotSeeEachOther(_ engine: Engine) async throws {
        let names = [Self.unique("twin-a", engine), Self.unique("twin-b", engine)]
        try await Self.withScenario(engine, clusters: names) { scenario in
            let runs = try names.map { name in
                try scenario.start([try scenario.write("\(name).lua", """
                    local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 2 }
                    c:start()
                    c:node(1):etcdctl("put", "owner", "\(name)")
                    -- node2 on this cluster's network answers with this cluster's data.
                    print("owner=" .. c:node(2):etcdctl("get", "owner", "--print-value-only"):gsub("%s+$", ""))
                    print("members=" .. select(2, c:node(1):etcdctl("member", "list"):gsub("\\n", "")))
                    """)])
            }
            for (name, run) in zip(names, runs) {
                let result = run.finish()
                #expect(result.status == 0, "\(name): stderr:\n\(result.stderr)")
                #expect(result.stdout.contains("owner=\(name)"))
                #expect(result.stdout.contains("members=2"))
            }
            #expect(try await scenario.leftovers(names).isEmpty)
        }
    }

    @Test(arguments: Engine.allCases)
    func servicesAndOneShotContainersLiveOnTheClusterNetwork(_ engine: Engine) async throws {
        let name = Self.unique("svc", engine)
        try await Self.withScenario(engine, clusters: [name]) { scenario in
            let script = try scenario.write("svc.lua", """
                local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 1 }
                c:start()
                c:add_service { name = "web", image = "\(Integration.baseImage)", command = "sleep 600" }
                local found = c:node(1):exec("getent hosts web")
                print("web resolves: " .. tostring(found.code == 0))
                local ok = c:run_once { image = "\(Integration.baseImage)", command = { "sh", "-c", "getent hosts node1 >/dev/null && echo init-done" } }
                print("init: " .. ok.code .. " " .. ok.output:gsub("%s+$", ""))
                local failed = c:run_once { image = "\(Integration.baseImage)", command = { "sh", "-c", "exit 3" } }
                print("failed: " .. failed.code)
                local r = c:node(1):exec({ "sh", "-c", "echo out; echo err >&2; exit 7" })
                print(("exec: %d %s %s"):format(r.code, r.stdout:gsub("%s+$", ""), r.stderr:gsub("%s+$", "")))
                local ok2, err = pcall(function() return c:node(1):run("exit 5") end)
                print("run: " .. err.kind .. " " .. err.code .. " " .. err.node)
                """)
            try await scenario.expectSuccess(script, printing: ["web resolves: true", "init: 0 init-done", "failed: 3", "exec: 7 out err", "run: exec 5 node1"], leaving: [name])
        }
    }

    @Test(arguments: Engine.allCases)
    func aRunningEtcdClusterGrowsByOneMember(_ engine: Engine) async throws {
        let name = Self.unique("grow", engine)
        try await Self.withScenario(engine, clusters: [name]) { scenario in
            let script = try scenario.write("grow.lua", """
                local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 3 }
                c:start()
                c:node(1):etcdctl("put", "before", "1")
                local n4 = c:add_node { start = true }
                print("added " .. n4.name .. " " .. n4:state())
                print("members " .. select(2, c:node(1):etcdctl("member", "list"):gsub("started", "")))
                print("reads " .. n4:etcdctl("get", "before", "--print-value-only"):gsub("%s+$", ""))
                """)
            try await scenario.expectSuccess(script, printing: ["added node4 running", "members 4", "reads 1"], leaving: [name])
        }
    }

    @Test(arguments: Engine.allCases)
    func aClusterWhoseCreationWasCancelledIsRemovedToo(_ engine: Engine) async throws {
        let name = Self.unique("cancel", engine)
        try await Self.withScenario(engine, clusters: [name]) { scenario in
            // The failing branch cancels its sibling in the middle of creating the cluster: once its
            // network exists, while its containers are being created.
            let script = try scenario.write("cancel.lua", """
                parallel(
                  function() cluster.create { profile = "etcd", name = "\(name)", nodes = 3 } end,
                  function()
                    wait_until(function()
                      return exec.host({ "\(engine.rawValue)", "network", "ls", "-q", "--filter", "label=ccm-lua.cluster=\(name)" }).stdout ~= ""
                    end, { timeout = 60, interval = 0.01 })
                    error("stop right away")
                  end)
                """)
            let result = try scenario.run([script])
            #expect(result.status == 1)
            #expect(result.stderr.contains("stop right away"), "stderr:\n\(result.stderr)")
            #expect(try await scenario.leftovers([name]).isEmpty)
        }
    }

    /// No ScyllaDB image can be had on the project's machines; where SCYLLA_DOCKER_IMAGE names one
    /// (it must then be present: a named image that is missing fails), the quickstart runs for real.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SCYLLA_DOCKER_IMAGE"] != nil,
                   "SCYLLA_DOCKER_IMAGE names no ScyllaDB image"),
          arguments: Engine.allCases)
    func theScyllaQuickstartRunsWhereAnImageIsGiven(_ engine: Engine) async throws {
        let image = try #require(ProcessInfo.processInfo.environment["SCYLLA_DOCKER_IMAGE"])
        _ = try await Integration.runtime(engine, images: [image])
        let scenario = try Scenario(engine: engine)
        let script = Scenario.repository.appendingPathComponent("examples/scylla-quickstart.lua").path
        let result = try scenario.run([script])
        await scenario.removeAll([])
        #expect(result.status == 0, "stderr:\n\(result.stderr)")
        #expect(result.stdout.contains("one"), "stdout:\n\(result.stdout)")
    }
}
