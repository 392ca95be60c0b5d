import Core
import CoreTesting
import Foundation
import Testing

/// The built-in scylla and cassandra profiles, checked against what the images document: the
/// container command, environment, mounts and generated files a node gets.
extension FakeClusters {
    @Suite struct ScyllaProfileTests {
        @Test func nodesGetTheEntrypointFlagsFilesAndMountsTheImageDocuments() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "sc", nodes = 3 }
                out("image", c.image)
                out("profile", c.profile)
                """)
            #expect(run.outcome.status == 0 && run.error == nil, "\(run.summary)")
            #expect(run.values["image"] == "scylladb/scylla:latest")
            #expect(run.values["profile"] == "scylla")
            for i in 1...3 {
                let node = "node\(i)"
                let spec = try #require(run.container("sc", node), "no container for \(node): \(run.containers.keys.sorted())")
                #expect(spec.image == "scylladb/scylla:latest")
                #expect(spec.entrypoint == nil, "the image's entrypoint parses the flags")
                #expect(spec.command == ["--seeds", "node1", "--smp", "1", "--memory", "512M", "--overprovisioned", "1",
                                         "--developer-mode", "1", "--cluster-name", "sc"])
                #expect(spec.network == "ccm-lua-sc")
                #expect(spec.networkAliases == [node])
                #expect(spec.hostname == node)
                #expect(spec.labels[Labels.cluster] == "sc" && spec.labels[Labels.node] == node)
                let mounts = Dictionary(uniqueKeysWithValues: spec.mounts.map { ($0.containerPath, $0.hostPath) })
                #expect(mounts.count == 8, "\(spec.mounts)")
                #expect(mounts["/etc/scylla/scylla.yaml"]?.hasSuffix("/sc/\(node)/conf/scylla.yaml") == true)
                #expect(mounts["/etc/scylla/cassandra-rackdc.properties"]?.hasSuffix("/sc/\(node)/conf/cassandra-rackdc.properties") == true)
                #expect(mounts["/var/lib/scylla/data"]?.hasSuffix("/sc/\(node)/data") == true)
                #expect(run.file("sc", node, "conf/cassandra-rackdc.properties") == "dc=dc1\nprefer_local=true\nrack=rack1\n")
            }
            let yaml = try #require(run.file("sc", "node2", "conf/scylla.yaml"))
            #expect(yaml == """
                cluster_name: sc
                commitlog_directory: /var/lib/scylla/commitlog
                data_file_directories:
                - /var/lib/scylla/data
                endpoint_snitch: GossipingPropertyFileSnitch
                hints_directory: /var/lib/scylla/hints
                num_tokens: 256
                saved_caches_directory: /var/lib/scylla/saved_caches
                seed_provider:
                - class_name: org.apache.cassandra.locator.SimpleSeedProvider
                  parameters:
                  - seeds: node1
                view_hints_directory: /var/lib/scylla/view_hints

                """, "\(yaml)")
            // The node folder holds data/ for /var/lib/scylla and the readiness is the CQL log line.
            let record = try #require(run.files["sc/cluster.json"])
            #expect(record.contains("Starting listening for CQL clients"))
        }

        @Test func smpMemoryAndExtraArgsReachTheCommandUnfiltered() async throws {
            let run = try await runCluster("""
                cluster.create { name = "flags", smp = 2, scylla_memory = "1G", memory = "2g", cpus = 1.5,
                                 args = { "--abort-on-lsa-bad-alloc", "1", "--seeds", "other", 42 } }
                """)
            #expect(run.error == nil, "\(run.summary)")
            let spec = try #require(run.container("flags", "node1"))
            #expect(spec.command == ["--seeds", "node1", "--smp", "2", "--memory", "1G", "--overprovisioned", "1",
                                     "--developer-mode", "1", "--cluster-name", "flags",
                                     "--abort-on-lsa-bad-alloc", "1", "--seeds", "other", "42"])
            #expect(spec.memory == "2g", "spec.memory is the container's limit")
            #expect(spec.cpus == 1.5)
        }

        @Test func scyllaDockerImageChoosesTheImageAndSpecImageWins() async throws {
            let run = try await runCluster("""
                local a = cluster.create { name = "env-image" }
                local b = cluster.create { name = "spec-image", image = "scylladb/scylla:5.4" }
                out("a", a.image); out("b", b.image)
                """, images: ["scylladb/scylla:6.2", "scylladb/scylla:5.4"], env: ["SCYLLA_DOCKER_IMAGE": "scylladb/scylla:6.2"])
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["a"] == "scylladb/scylla:6.2" && run.values["b"] == "scylladb/scylla:5.4")
            #expect(run.container("env-image", "node1")?.image == "scylladb/scylla:6.2")
            #expect(run.container("spec-image", "node1")?.image == "scylladb/scylla:5.4")
        }

        @Test func datacentersNumberNodesAcrossThemWithTheFirstOfEachAsSeed() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "mdc", nodes = { dc2 = 2, dc1 = 3 } }
                local dcs = {}
                for i, n in ipairs(c:nodes()) do dcs[i] = n.name .. "@" .. n.dc end
                out("dcs", table.concat(dcs, " "))
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["dcs"] == "node1@dc1 node2@dc1 node3@dc1 node4@dc2 node5@dc2")
            for i in 1...5 {
                let node = "node\(i)", dc = i <= 3 ? "dc1" : "dc2"
                let command = try #require(run.container("mdc", node)?.command)
                #expect(Array(command.prefix(2)) == ["--seeds", "node1,node4"])
                #expect(run.file("mdc", node, "conf/cassandra-rackdc.properties") == "dc=\(dc)\nprefer_local=true\nrack=rack1\n")
                #expect(run.file("mdc", node, "conf/scylla.yaml")?.contains("  - seeds: node1,node4\n") == true)
            }
        }

        @Test func anAddedNodeJoinsItsDatacenterWithTheSameSeeds() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "grow", nodes = { dc1 = 2, dc2 = 1 }, config = { num_tokens = 8 } }
                local n = c:add_node { dc = "dc2" }
                out("added", n.name .. "@" .. n.dc .. " " .. #c:nodes())
                out("tokens", n:config().num_tokens)
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["added"] == "node4@dc2 4")
            #expect(run.values["tokens"] == "8", "spec.config applies to added nodes too")
            #expect(run.container("grow", "node4")?.command?.prefix(2) == ["--seeds", "node1,node3"])
            #expect(run.file("grow", "node4", "conf/cassandra-rackdc.properties") == "dc=dc2\nprefer_local=true\nrack=rack1\n")
        }

        @Test func nodetoolAndCqlshRunInsideTheNodeThroughExec() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "tools", nodes = 2 }
                c:start { wait = false }
                local n = c:node(2)
                out("status", n:nodetool("status"))
                n:cqlsh("SELECT now() FROM system.local")
                n:cqlsh("-f", "/tmp/schema.cql")
                n:nodetool("flush", "ks", 3)
                local ok, err = pcall(function() c:node(1):nodetool("repair") end)
                out("kind", err.kind); out("code", err.code); out("err", tostring(err)); out("node", err.node)
                """, prepare: { fake in
                    fake.scriptExec(["nodetool", "status"], .result(code: 0, stdout: "UN  10.0.0.2  node2\n"))
                    fake.scriptExec(["nodetool", "repair"], .result(code: 2, stderr: "nodetool: repair failed\n"))
                })
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["status"] == "UN  10.0.0.2  node2\n")
            #expect(run.execs == [["nodetool", "status"], ["cqlsh", "-e", "SELECT now() FROM system.local"],
                                  ["cqlsh", "-f", "/tmp/schema.cql"], ["nodetool", "flush", "ks", "3"], ["nodetool", "repair"]])
            let containers = run.fake.calls("exec").map { $0.arguments[0] }
            #expect(containers == ["tools-node2", "tools-node2", "tools-node2", "tools-node2", "tools-node1"])
            #expect(run.values["kind"] == "exec" && run.values["code"] == "2" && run.values["node"] == "node1")
            #expect(run.values["err"] == run.at(8) + "node1: `nodetool repair` exited 2: nodetool: repair failed",
                    "\(run.values["err"] ?? "")")
        }

        @Test func startWaitsForEachNodesCQLLineBeforeStartingTheNext() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "ready", nodes = 2 }
                parallel(function() c:start { timeout = 10 } end, function()
                  wait_until(function() return c:node(1):state() == "running" end, { interval = 0.01 })
                  out("node2 before node1 ready", c:node(2):state())
                  emit("ready-node1", "INFO  cql_server_controller - Starting listening for CQL clients on 10.0.0.2:9042")
                  wait_until(function() return c:node(2):state() == "running" end, { interval = 0.01 })
                  emit("ready-node2", "INFO  cql_server_controller - Starting listening for CQL clients on 10.0.0.3:9042")
                end)
                out("states", c:node(1):state() .. " " .. c:node(2):state())
                local ok, err = pcall(function() c:node(1):restart { timeout = 0.2 } end)
                out("timeout", err.kind)
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["node2 before node1 ready"] == "created", "scylla starts one node at a time")
            #expect(run.values["states"] == "running running")
            #expect(run.values["timeout"] == "timeout", "a restart waits for a new CQL line, not the old one")
        }
    }

    @Suite struct CassandraProfileTests {
        /// What the official image's docker-entrypoint.sh does to cassandra.yaml with the CASSANDRA_*
        /// variables: `sed -r 's/^(# )?(KEY:).*/\2 VALUE/'` for these keys, and the seeds line.
        static func entrypointRewrite(_ yaml: String, env: [String: String], address: String) -> String {
            var values = ["listen_address": address, "broadcast_address": address, "broadcast_rpc_address": address,
                          "rpc_address": "0.0.0.0"]
            for key in ["cluster_name", "endpoint_snitch", "num_tokens"] {
                if let value = env["CASSANDRA_" + key.uppercased()] { values[key] = value }
            }
            return yaml.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                var text = String(line)
                if text.hasPrefix("# ") { text.removeFirst(2) }
                for (key, value) in values where text.hasPrefix(key + ":") { return "\(key): \(value)" }
                if let range = line.range(of: "- seeds:"), let seeds = env["CASSANDRA_SEEDS"] {
                    return line[..<range.upperBound] + " \"\(seeds)\""
                }
                return String(line)
            }.joined(separator: "\n")
        }

        @Test func nodesGetTheVariablesTheEntrypointReadsAndAYamlItCanRewrite() async throws {
            let run = try await runCluster("""
                cluster.create { name = "cs", profile = "cassandra", nodes = { dc1 = 2, dc2 = 1 } }
                """)
            #expect(run.error == nil, "\(run.summary)")
            for (i, dc) in [(1, "dc1"), (2, "dc1"), (3, "dc2")] {
                let node = "node\(i)"
                let spec = try #require(run.container("cs", node))
                #expect(spec.image == "cassandra:4.1")
                #expect(spec.command == nil && spec.entrypoint == nil, "the image's own entrypoint and CMD")
                #expect(spec.env == ["CASSANDRA_SEEDS": "node1,node3", "CASSANDRA_CLUSTER_NAME": "cs", "CASSANDRA_DC": dc,
                                     "CASSANDRA_RACK": "rack1", "CASSANDRA_ENDPOINT_SNITCH": "GossipingPropertyFileSnitch"])
                #expect(spec.networkAliases == [node] && spec.hostname == node)
                let mounts = Dictionary(uniqueKeysWithValues: spec.mounts.map { ($0.containerPath, $0.hostPath) })
                #expect(mounts.keys.sorted() == ["/etc/cassandra/cassandra.yaml", "/var/lib/cassandra"])
                #expect(mounts["/etc/cassandra/cassandra.yaml"]?.hasSuffix("/cs/\(node)/conf/cassandra.yaml") == true)
                #expect(mounts["/var/lib/cassandra"]?.hasSuffix("/cs/\(node)/data") == true)

                let yaml = try #require(run.file("cs", node, "conf/cassandra.yaml"))
                let lines = yaml.split(separator: "\n").map(String.init)
                for key in ["listen_address", "broadcast_address", "broadcast_rpc_address", "rpc_address", "cluster_name",
                            "endpoint_snitch"] {
                    #expect(lines.contains { $0.hasPrefix(key + ":") }, "the entrypoint rewrites a '\(key):' line; missing in\n\(yaml)")
                }
                #expect(lines.contains("  - seeds: node1,node3"), "\(yaml)")
                let rewritten = Self.entrypointRewrite(yaml, env: spec.env, address: "10.0.0.\(i + 1)")
                #expect(rewritten.contains("\nlisten_address: 10.0.0.\(i + 1)\n"))
                #expect(rewritten.contains("\nbroadcast_rpc_address: 10.0.0.\(i + 1)\n"))
                #expect(rewritten.contains("  - seeds: \"node1,node3\"\n"))
                #expect(rewritten.contains("\ncluster_name: cs\n"))
            }
            #expect(run.files["cs/cluster.json"]?.contains("Starting listening for CQL clients") == true)
        }

        @Test func cassandraDockerImageAndTheSharedHelpers() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "cs2", profile = "cassandra", start = false }
                c:start { wait = false }
                c:node(1):nodetool("status")
                c:node(1):cqlsh("DESCRIBE KEYSPACES")
                out("image", c.image)
                """, images: ["cassandra:5.0"], env: ["CASSANDRA_DOCKER_IMAGE": "cassandra:5.0"])
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["image"] == "cassandra:5.0")
            #expect(run.execs == [["nodetool", "status"], ["cqlsh", "-e", "DESCRIBE KEYSPACES"]])
        }

        @Test func configThatTheEntrypointWouldOverwriteStaysTrue() async throws {
            // The entrypoint rewrites cluster_name and endpoint_snitch from its variables: they must
            // say what the config says, or the user's setting is silently lost. Removing an address
            // line would stop the entrypoint from filling it in: those lines stay.
            let run = try await runCluster("""
                cluster.create { name = "cs3", profile = "cassandra",
                                 config = { cluster_name = "Test Cluster", endpoint_snitch = "SimpleSnitch",
                                            listen_address = json.null, rpc_address = json.null } }
                """)
            #expect(run.error == nil, "\(run.summary)")
            let spec = try #require(run.container("cs3", "node1"))
            #expect(spec.env["CASSANDRA_CLUSTER_NAME"] == "Test Cluster")
            #expect(spec.env["CASSANDRA_ENDPOINT_SNITCH"] == "SimpleSnitch")
            let yaml = try #require(run.file("cs3", "node1", "conf/cassandra.yaml"))
            #expect(yaml.contains("cluster_name: 'Test Cluster'\n"), "\(yaml)")
            #expect(yaml.contains("\nlisten_address: ") && yaml.contains("\nrpc_address: "), "\(yaml)")
        }
    }
}
