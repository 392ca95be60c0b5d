import Core
import CoreTesting
import Foundation
import Testing

extension FakeClusters {
    /// `user` and `owner` in the spec reach every node's plan: the container runs as `user`, and
    /// the node's mounted folders belong to `owner` (else a numeric `user`) before it starts.
    @Suite struct NodeFolderOwnerTests {
        static let profile = """
            local p = { name = "writer", start_order = "parallel", config = {} }
            function p.image() return "busybox:latest" end
            function p.node(node, cluster) return { command = { "serve" }, directories = { data = "/data" } } end
            return p
            """

        @Test func specUserRunsTheContainerAsItAndOwnsTheFolders() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "own", profile = "writer", user = "1001:1002" }
                local path = os.getenv("CCM_LUA_HOME") .. "/own/node1/data"
                out("owner", exec.host({ "stat", "-c", "%u:%g", path }).stdout)
                """, modules: ["writer": Self.profile])
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.container("own", "node1")?.user == "1001:1002")
            #expect(run.values["owner"] == "1001:1002\n")
        }

        @Test func specOwnerOwnsTheFoldersAndLeavesTheImagesUser() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "own2", profile = "writer", owner = "999" }
                local path = os.getenv("CCM_LUA_HOME") .. "/own2/node1/data"
                out("owner", exec.host({ "stat", "-c", "%u:%g", path }).stdout)
                """, modules: ["writer": Self.profile])
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.container("own2", "node1")?.user == nil)
            #expect(run.values["owner"] == "999:999\n")
        }

        @Test func anOwnerByNameIsAConfigErrorNamingTheNode() async throws {
            let run = try await runCluster("""
                cluster.create { name = "own3", profile = "writer", owner = "postgres" }
                """, modules: ["writer": Self.profile])
            #expect(run.error?.kind == "config", "\(run.summary)")
            #expect(run.error?.message.contains("node1's owner 'postgres' must be numeric") == true, "\(run.summary)")
        }
    }
}
