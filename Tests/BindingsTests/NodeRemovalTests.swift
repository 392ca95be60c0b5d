import Core
import CoreTesting
import Foundation
import Testing

/// Removing one node (`n:remove`, `c:remove_node`) and the cluster's own configuration
/// (`c:set_config`), against the fake engine.
extension FakeClusters {
    @Suite struct NodeRemovalTests {
        /// A generic profile whose on_remove notes each node it was asked to let go.
        static let leavingProfile = """
            local generic = require "ccm.profiles.generic"
            left = {}
            profile = setmetatable({ name = "leaving", on_remove = function(c, n)
              left[#left + 1] = n.name .. ":" .. n:state()
            end }, { __index = generic })
            local function names(c)
              local list = {}
              for _, s in ipairs(c:status()) do list[#list + 1] = s.name end
              return table.concat(list, ",")
            end
            """

        @Test func aRemovedNodeLeavesFirstThenItsContainerFolderAndRecordGo() async throws {
            let run = try await runCluster(Self.leavingProfile + """

                local c = cluster.create { name = "rm", profile = profile, image = "busybox:latest", nodes = 3,
                  command = { "sleep", "1000" } }
                c:start()
                out("folder before", inode("rm/node3") ~= nil)
                c:node(3):remove()
                out("left", table.concat(left, ","))
                out("status", names(c))
                out("folder after", inode("rm/node3") == nil)
                out("attached", names(cluster.get("rm")))
                -- Stopped: there is nothing running to leave; force: the script says not to.
                c:node(2):stop()
                c:remove_node("node2")
                c:remove_node(1, { force = true })
                out("left after", table.concat(left, ","))
                out("status after", names(c))
                -- Names continue after the highest one left (none is left here).
                out("added", c:add_node{}.name)
                local ok, err = pcall(c.remove_node, c, "node9")
                out("unknown", err.kind .. ": " .. err.message)
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["folder before"] == "true")
            #expect(run.values["left"] == "node3:running", "on_remove ran while the node still ran")
            #expect(run.values["status"] == "node1,node2")
            #expect(run.values["folder after"] == "true", "node3's folder is still there")
            #expect(run.values["attached"] == "node1,node2", "the record still has node3")
            #expect(run.values["left after"] == "node3:running", "on_remove ran for a stopped node or with force")
            #expect(run.values["status after"] == "")
            #expect(run.values["added"] == "node1")
            #expect(run.values["unknown"] == "usage: cluster 'rm' has no node node9 (nodes: node1)", "\(run.values)")
            // Gently unless forced: node3 was asked to stop, node1 was not.
            let stopped = run.fake.calls("stop").map { $0.arguments[0] }
            #expect(stopped.contains("rm-node3") && !stopped.contains("rm-node1"), "\(stopped)")
            #expect(run.fake.calls("remove").map { $0.arguments[0] }.starts(with: ["rm-node3", "rm-node2", "rm-node1"]),
                    "\(run.fake.calls("remove"))")
        }

        @Test func aProfileThatLeavesFromAPeerLetsAStoppedNodeLeaveToo() async throws {
            let run = try await runCluster(Self.leavingProfile + """

                profile.leaves_from_peer = true
                local c = cluster.create { name = "peer", profile = profile, image = "busybox:latest", nodes = 3,
                  command = { "sleep", "1000" } }
                c:start()
                c:node(3):stop()
                c:node(3):remove()
                c:remove_node(2, { force = true })
                out("left", table.concat(left, ","))
                out("status", names(c))
                """)
            #expect(run.error == nil, "\(run.summary)")
            // The stopped node3 left through its peers; force still skips the hook for node2.
            #expect(run.values["left"] == "node3:exited", "\(run.values)")
            #expect(run.values["status"] == "node1")
        }

        @Test func etcdAsksAnotherRunningMemberToRemoveTheNodeBeforeItGoes() async throws {
            let endpoint = "--endpoints=http://127.0.0.1:2379"
            let run = try await runCluster("""
                local c = cluster.create { name = "et", profile = "etcd", image = "etcd:test", nodes = 3 }
                c:start { wait = false }
                c:node(1):stop()
                c:node(3):remove()
                """, images: ["etcd:test"]) { fake in
                fake.scriptExec(["etcdctl", endpoint, "member", "list"], .result(code: 0, stdout: """
                    8e9e05c52164694d, started, node1, http://node1:2380, http://node1:2379, false
                    91bc3c398fb3c146, started, node2, http://node2:2380, http://node2:2379, false
                    fd422379fda50e48, started, node3, http://node3:2380, http://node3:2379, false

                    """))
            }
            #expect(run.error == nil, "\(run.summary)")
            let calls = run.fake.calls.map(\.description)
            let asked = try #require(calls.firstIndex(of: "exec et-node2 etcdctl \(endpoint) member remove fd422379fda50e48"), "\(calls)")
            let removed = try #require(calls.firstIndex(of: "remove et-node3"), "\(calls)")
            #expect(asked < removed, "the container went before etcd was told")
        }

        @Test func clusterConfigReachesNodesAddedLaterAlsoFromAnotherScript() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "cfg", profile = "generic", image = "busybox:latest", config = { a = 1 } }
                c:set_config { b = { c = 2 } }
                out("node1", c:node(1):config())
                out("node2", c:add_node{}:config())
                out("node3", cluster.get("cfg"):add_node{}:config())
                """)
            #expect(run.error == nil, "\(run.summary)")
            for node in ["node1", "node2", "node3"] {
                let config = decodeJSON(run.values[node]) as? NSDictionary
                #expect(config == ["a": 1, "b": ["c": 2]] as NSDictionary, "\(node): \(run.values[node] ?? "nil")")
            }
        }
    }
}
