import Foundation
import Testing
import Core

/// Clusters across three engines of one swarm (the host's Docker as manager and two engines in
/// containers, `TestHosts`), driven by scripts as a user runs them: placement, a leader elected
/// across hosts, logs and waits of nodes on other engines, `ccm-lua status` with hosts, a partition
/// between hosts, and that nothing is left on any engine after a normal end, an error or SIGINT.
/// Docker only: Swarm is Docker's.
@Suite("Clusters across hosts", .serialized)
struct MultiHostClusterTests {
    /// Runs `body` with a scenario on the test hosts; afterwards nothing of `clusters` may be on
    /// any engine, and whatever is left is removed.
    static func withHosts(_ clusters: [String], _ body: (Scenario, TestHosts) async throws -> Void) async throws {
        let hosts = try await TestHosts.shared()
        setenv(NetworkNamespace.imageVariable, TestHosts.nettoolsImage, 1)   // the fault helper, loaded on every host
        let scenario = try Scenario(engine: .docker)
        do {
            try await body(scenario, hosts)
        } catch {
            await removeEverywhere(clusters, hosts: hosts)
            try? FileManager.default.removeItem(at: scenario.home.deletingLastPathComponent())
            throw error
        }
        let left = try await leftovers(clusters, hosts: hosts)
        #expect(left.isEmpty, "left behind: \(left)")
        await removeEverywhere(clusters, hosts: hosts)
        try? FileManager.default.removeItem(at: scenario.home.deletingLastPathComponent())
    }

    /// Containers and networks labelled with one of `clusters` on any of the engines.
    static func leftovers(_ clusters: [String], hosts: TestHosts) async throws -> [String] {
        var found: [String] = []
        for address in hosts.all {
            let runtime = hosts.runtime(address)
            for name in clusters {
                found += try await runtime.listContainers(labels: [Labels.cluster: name]).map { "container \($0.name) on \(address)" }
                found += try await runtime.listNetworks(labels: [Labels.cluster: name]).map { "network \($0) on \(address)" }
            }
        }
        return found
    }

    /// Inner engines first: the overlay on the manager goes once nothing uses it.
    static func removeEverywhere(_ clusters: [String], hosts: TestHosts) async {
        for address in hosts.inner + [hosts.manager] {
            for name in clusters { _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: hosts.runtime(address)) }
        }
    }

    /// The manager as h1, the inner engines as h2 and h3, as a script writes them.
    static func table(_ hosts: TestHosts) -> String {
        #"{ h1 = "\#(hosts.manager)", h2 = "\#(hosts.inner[0])", h3 = "\#(hosts.inner[1])" }"#
    }

    @Test("3 etcd nodes, one per host, elect one leader; exec, logs and waits reach nodes on inner engines")
    func threeNodesOnThreeHosts() async throws {
        try await Self.withHosts(["mh-three"]) { scenario, hosts in
            let script = try scenario.write("three.lua", """
                local c = cluster.create { name = "mh-three", profile = "etcd", nodes = 3, hosts = \(Self.table(hosts)) }
                for _, n in ipairs(c:nodes()) do print(n.name .. " on " .. n.host) end
                c:start()
                local leader = wait_until(function() return c:node(1):leader() end, { timeout = 60 })
                for _, n in ipairs(c:nodes()) do
                  assert(wait_until(function() return n:leader() end, { timeout = 60 }) == leader, n.name .. " sees another leader")
                end
                print("one leader: " .. leader)
                c:node(3):etcdctl("put", "k", "across hosts")
                print("node1 reads: " .. c:node(1):etcdctl("get", "k", "--print-value-only"):gsub("%s+$", ""))
                local mark = c:node(2):mark_log()
                c:node(2):stop()
                c:node(2):start()
                local line = c:node(2):wait_log("ready to serve client requests", { from = mark, timeout = 60 })
                print("node2 ready again: " .. tostring(line ~= nil))
                print("node3 hostname: " .. c:node(3):run({ "cat", "/etc/hostname" }):gsub("%s+$", ""))
                """)
            let result = try scenario.run([script])
            #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
            for line in ["node1 on h1", "node2 on h2", "node3 on h3", "one leader: node", "node1 reads: across hosts",
                         "node2 ready again: true", "node3 hostname: node3"] {
                #expect(result.stdout.contains(line), "missing '\(line)' in:\n\(result.stdout)\n\(result.stderr)")
            }
            #expect(result.stderr.contains("plain TCP without TLS, which gives root to anyone on that network"), "\(result.stderr)")
            // One warning, though two hosts are plain TCP.
            #expect(result.stderr.components(separatedBy: "plain TCP without TLS").count == 2, "\(result.stderr)")
        }
    }

    @Test("ccm-lua status shows each node's host, exec and logs reach nodes on inner engines, rm removes the cluster from every host")
    func statusWithHosts() async throws {
        try await Self.withHosts(["mh-status"]) { scenario, hosts in
            let script = try scenario.write("kept.lua", """
                local c = cluster.create { name = "mh-status", profile = "etcd", nodes = { dc1 = 1, dc2 = 2 },
                                           hosts = \(Self.table(hosts)), placement = { dc1 = "h2", dc2 = "h3" }, keep = true }
                c:start()
                print("started")
                """)
            let created = try scenario.run([script])
            #expect(created.status == 0, "\(created.stderr)")
            // Where each container is, asked of each engine.
            let onHost1 = try await hosts.runtime(hosts.inner[0]).listContainers(labels: [Labels.cluster: "mh-status"]).map(\.name)
            let onHost2 = try await hosts.runtime(hosts.inner[1]).listContainers(labels: [Labels.cluster: "mh-status"]).map(\.name).sorted()
            #expect(onHost1 == ["mh-status-node1"] && onHost2 == ["mh-status-node2", "mh-status-node3"], "\(onHost1) \(onHost2)")

            let status = try scenario.run(["status", "mh-status"])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("on 3 hosts: h1 = \(hosts.manager), h2 = \(hosts.inner[0]), h3 = \(hosts.inner[1])"), "\(status.stdout)")
            let rows = status.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(rows.contains { $0.first == "NODE" && $0.dropFirst().first == "HOST" }, "\(status.stdout)")
            for (node, host) in [("node1", "h2"), ("node2", "h3"), ("node3", "h3")] {
                #expect(rows.contains { $0.count >= 3 && $0[0] == node && $0[1] == host && $0[2] == "running" }, "\(node) on \(host):\n\(status.stdout)")
            }

            // Another process reaches a node on an inner engine: exec and logs.
            let exec = try scenario.run(["exec", "mh-status", "node2", "--", "cat", "/etc/hostname"])
            #expect(exec.status == 0 && exec.stdout == "node2\n", "\(exec.stdout)\n\(exec.stderr)")
            let logs = try scenario.run(["logs", "mh-status", "node3"])
            #expect(logs.status == 0 && logs.stdout.contains("ready to serve client requests"), "\(logs.stderr)")

            let removed = try scenario.run(["rm", "mh-status"])
            #expect(removed.status == 0, "\(removed.stderr)")
        }
    }

    @Test("a partition between two hosts: the majority's side keeps a leader, the other has none; healed, one leader")
    func partitionBetweenHosts() async throws {
        try await Self.withHosts(["mh-split"]) { scenario, hosts in
            let script = try scenario.write("split.lua", """
                local c = cluster.create { name = "mh-split", profile = "etcd", nodes = { dc1 = 4, dc2 = 2 },
                                           hosts = \(Self.table(hosts)), placement = { dc1 = "h2", dc2 = "h3" } }
                c:start()
                local function leaders(nodes)
                  local seen = {}
                  for _, n in ipairs(nodes) do seen[#seen + 1] = n:leader() or "none" end
                  return table.concat(seen, ",")
                end
                wait_until(function() return c:node(1):leader() end, { timeout = 60 })
                local big, small = {}, {}
                for _, n in ipairs(c:nodes()) do
                  if n.host == "h2" then big[#big + 1] = n else small[#small + 1] = n end
                end
                local p = c:partition(big, small)
                -- The minority loses its leader after an election timeout; the majority keeps or elects one.
                wait_until(function() return leaders(small) == "none,none" end, { timeout = 60 })
                local leader = wait_until(function()
                  local l = big[1]:leader()
                  for _, n in ipairs(big) do if n:leader() ~= l then return nil end end
                  return l
                end, { timeout = 60 })
                print("majority leader on h2: " .. tostring(c:node(leader).host == "h2"))
                print("minority: " .. leaders(small))
                p:heal()
                local healed = wait_until(function()
                  local l = c:node(1):leader()
                  for _, n in ipairs(c:nodes()) do if n:leader() ~= l then return nil end end
                  return l
                end, { timeout = 60 })
                print("healed, one leader: " .. tostring(healed ~= nil))
                """)
            let result = try scenario.run([script])
            #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
            for line in ["majority leader on h2: true", "minority: none,none", "healed, one leader: true"] {
                #expect(result.stdout.contains(line), "missing '\(line)' in:\n\(result.stdout)\n\(result.stderr)")
            }
        }
    }

    @Test("after an error and after SIGINT nothing of the cluster is left on any host")
    func cleanupAfterErrorAndSIGINT() async throws {
        try await Self.withHosts(["mh-error", "mh-sigint"]) { scenario, hosts in
            let failing = try scenario.write("fails.lua", """
                local c = cluster.create { name = "mh-error", profile = "etcd", nodes = 3, hosts = \(Self.table(hosts)) }
                c:start()
                error("the scenario broke")
                """)
            let failed = try scenario.run([failing])
            #expect(failed.status == 1 && failed.stderr.contains("the scenario broke"), "\(failed.stderr)")
            #expect(try await Self.leftovers(["mh-error"], hosts: hosts).isEmpty)

            let waiting = try scenario.write("waits.lua", """
                local c = cluster.create { name = "mh-sigint", profile = "etcd", nodes = 3, hosts = \(Self.table(hosts)) }
                c:start()
                print("up")
                sleep(600)
                """)
            let running = try scenario.start([waiting])
            let (found, seen) = running.waitForLine(containing: "up")
            #expect(found, "\(seen)")
            kill(running.process.processIdentifier, SIGINT)
            let interrupted = running.finish(alreadyRead: seen)
            #expect(interrupted.status == 130, "\(interrupted.stderr)")
            #expect(interrupted.stderr.contains("removed cluster mh-sigint"), "\(interrupted.stderr)")
        }
    }

    @Test("kill -9 of the owner: its reaper removes the cluster from every host")
    func reaperCleansEveryHost() async throws {
        try await Self.withHosts(["mh-killed"]) { scenario, hosts in
            let script = try scenario.write("killed.lua", """
                local c = cluster.create { name = "mh-killed", profile = "etcd", nodes = 3, hosts = \(Self.table(hosts)) }
                c:start()
                print("up")
                sleep(600)
                """)
            let running = try scenario.start([script])
            let (found, seen) = running.waitForLine(containing: "up")
            #expect(found, "\(seen)")
            kill(running.process.processIdentifier, SIGKILL)
            _ = running.finish(alreadyRead: seen)
            // The reaper waits a grace period, sweeps every host, and sweeps again (docs/runner.md).
            let deadline = ContinuousClock.now + .seconds(120)
            var left = try await Self.leftovers(["mh-killed"], hosts: hosts)
            while !left.isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
                left = try await Self.leftovers(["mh-killed"], hosts: hosts)
            }
            #expect(left.isEmpty, "the reaper left: \(left)")
        }
    }

    @Test("ccm-lua doctor --hosts: every engine answers, one swarm, names resolve over an overlay; nothing left")
    func doctorChecksHosts() async throws {
        try await Self.withHosts([]) { scenario, hosts in
            let result = try scenario.run(["doctor", "--hosts", hosts.all.joined(separator: ","), "--probe-image", Integration.etcdImage])
            #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
            for line in ["h1 \(hosts.manager): engine", "swarm manager", "h2 \(hosts.inner[0]): engine", "swarm worker",
                         "one swarm: yes, managed by h1", "overlay across hosts: ok (h2, h3 resolved h1's probe by name"] {
                #expect(result.stdout.contains(line), "missing '\(line)' in:\n\(result.stdout)")
            }
            for address in hosts.all {
                let runtime = hosts.runtime(address)
                let containers = try await runtime.listContainers(labels: [Labels.cluster: ""]).filter { $0.labels[Labels.cluster]?.hasPrefix("doctor-") == true }
                let networks = try await runtime.listNetworks(labels: [:]).filter { $0.hasPrefix("ccm-lua-doctor-") }
                #expect(containers.isEmpty && networks.isEmpty, "doctor left on \(address): \(containers.map(\.name)) \(networks)")
            }

            let unreachable = try scenario.run(["doctor", "--hosts", "\(hosts.manager),tcp://127.0.0.1:9"])
            #expect(unreachable.status == 1)
            #expect(unreachable.stdout.contains("h2 tcp://127.0.0.1:9: does not answer") && unreachable.stdout.contains("fix: check the address"),
                    "\(unreachable.stdout)\n\(unreachable.stderr)")
        }
    }
}
