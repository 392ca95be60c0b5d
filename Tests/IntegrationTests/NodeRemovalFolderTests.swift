import Foundation
import Testing
import Core

/// Removing one node removes its folder also when its container wrote files there as another
/// user that ccm-lua's own user may not remove (as `ccm-lua remove` does for the whole cluster).
@Suite(.serialized) struct NodeRemovalFolderTests {
    @Test func anOrdinaryUsersRemovedNodeTakesFilesItsContainerWroteAsAnotherUser() async throws {
        _ = try await Integration.runtime(.docker)
        let (root, home) = try Integration.ordinaryUserFolder("rmnode")
        let name = ScenarioTests.unique("rmfolder", .docker)
        defer { try? FileManager.default.removeItem(at: root) }
        do {
            let script = root.appendingPathComponent("rmnode.lua")
            try """
                local writer = { name = "writer", start_order = "parallel", config = {} }
                function writer.node(node, cluster)
                  return {
                    command = { "sh", "-c", "mkdir /data/deep && echo kept > /data/deep/file && chmod 700 /data/deep && echo written && exec sleep 1000" },
                    directories = { data = "/data" },
                    ready = { log = "^written$" },
                  }
                end
                local c = cluster.create { profile = writer, name = "\(name)", image = "\(Integration.baseImage)", user = "1001:1001", nodes = 2 }
                c:start { timeout = 60 }
                local folder = os.getenv("CCM_LUA_HOME") .. "/" .. c.name .. "/node2"
                print("before: " .. exec.host({ "stat", "-c", "%u", folder .. "/data/deep" }).stdout:gsub("%s+$", ""))
                c:node(2):remove { timeout = 1 }   -- sleep as pid 1 ignores SIGTERM: no use waiting 30 s
                print("after: " .. exec.host({ "ls", folder }).code)
                print("nodes: " .. #c:nodes())
                """.write(to: script, atomically: true, encoding: .utf8)
            let (status, stdout, stderr) = try Integration.runAsOrdinaryUser(script, root: root, home: home)
            #expect(status == 0, "stderr:\n\(stderr)")
            // `ls` of a folder that is gone exits 2.
            for line in ["before: 1001", "after: 2", "nodes: 1"] {
                #expect(stdout.contains(line), "missing '\(line)' in:\n\(stdout)\nstderr:\n\(stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(name).path))
            #expect(try await CLIContainerRuntime(engine: .docker).listContainers(labels: [Labels.cluster: name]).isEmpty)
        } catch {
            _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: CLIContainerRuntime(engine: .docker))
            throw error
        }
    }
}
