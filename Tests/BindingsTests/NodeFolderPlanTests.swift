import Core
import CoreTesting
import Foundation
import Testing

/// The node folders a profile plans on the host and where each is mounted, against the fake engine.
extension FakeClusters {
    @Suite struct NodeFolderPlanTests {
        @Test func scyllaNodesGetTheSeedsFolderTable() async throws {
            let run = try await runCluster("""
                cluster.create { name = "sf", nodes = 2 }
                local missing = {}
                for _, sub in ipairs{"conf", "data", "commitlogs", "hints", "view_hints", "saved_caches", "keys", "logs"} do
                  local dir = os.getenv("CCM_LUA_HOME") .. "/sf/node1/" .. sub
                  if exec.host({"test", "-d", dir}).code ~= 0 then missing[#missing + 1] = sub end
                end
                out("missing", table.concat(missing, ","))
                """)
            #expect(run.error == nil, "\(run.summary)")
            for node in ["node1", "node2"] {
                let spec = try #require(run.container("sf", node))
                let mounts = Dictionary(uniqueKeysWithValues: spec.mounts.map { ($0.containerPath, $0.hostPath) })
                let folder = try #require(mounts["/var/lib/scylla/data"]?.replacingOccurrences(of: "/data", with: ""), "\(spec.mounts)")
                #expect(folder.hasSuffix("/sf/\(node)"))
                #expect(mounts == [
                    "/etc/scylla/scylla.yaml": folder + "/conf/scylla.yaml",
                    "/etc/scylla/cassandra-rackdc.properties": folder + "/conf/cassandra-rackdc.properties",
                    "/var/lib/scylla/data": folder + "/data",
                    "/var/lib/scylla/commitlog": folder + "/commitlogs",
                    "/var/lib/scylla/hints": folder + "/hints",
                    "/var/lib/scylla/view_hints": folder + "/view_hints",
                    "/var/lib/scylla/saved_caches": folder + "/saved_caches",
                    "/etc/scylla/keys": folder + "/keys",
                ], "\(spec.mounts)")
            }
            // The folders exist before the container does, so the engine mounts them instead of making its own.
            #expect(run.values["missing"] == "", "folders not made: \(run.values["missing"] ?? "?")")
        }

        @Test func etcdKeepsItsDataDirInTheNodeFolder() async throws {
            let run = try await runCluster("""
                cluster.create { name = "ef", profile = "etcd", image = "busybox:latest" }
                """)
            #expect(run.error == nil, "\(run.summary)")
            let spec = try #require(run.container("ef", "node1"))
            #expect(spec.mounts.map(\.containerPath) == ["/var/lib/etcd"])
            #expect(spec.mounts.first?.hostPath.hasSuffix("/ef/node1/data") == true)
        }
    }
}
