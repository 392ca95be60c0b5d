import Foundation
import Testing
import Core
#if canImport(Glibc)
import Glibc
#endif

/// Images that run as an ordinary user must be able to write into their node folders, and the
/// cluster's removal must take what they wrote.
@Suite(.serialized) struct NonRootImageTests {
    /// Builds `Tests/images/nonroot` under a tag of this run, runs `body`, removes the image.
    static func withNonRootImage(_ engine: Engine, _ body: (String) async throws -> Void) async throws {
        let runtime = try await Integration.runtime(engine)
        let tag = "ccm-lua-test/nonroot-\(Labels.runID.prefix(8).lowercased()):1"
        let base = engine == .podman ? "localhost/" + Integration.baseImage : Integration.baseImage
        let context = Scenario.repository.appendingPathComponent("Tests/images/nonroot").path
        try await runtime.buildImage(ImageBuild(contextDirectory: context, tag: tag, buildArgs: ["BASE": base]))
        func removeImage() {
            let rmi = Process()
            rmi.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            rmi.arguments = [engine.rawValue, "rmi", "-f", tag]
            rmi.standardOutput = FileHandle.nullDevice
            rmi.standardError = FileHandle.nullDevice
            try? rmi.run()
            rmi.waitUntilExit()
        }
        do { try await body(tag) } catch { removeImage(); throw error }
        removeImage()
    }

    @Test(arguments: Engine.allCases)
    func aNonRootImageWritesIntoItsNodeFolder(_ engine: Engine) async throws {
        try await Self.withNonRootImage(engine) { image in
            let owned = ScenarioTests.unique("owner", engine)
            let asUser = ScenarioTests.unique("user", engine)
            let asImage = ScenarioTests.unique("image", engine)
            // Rootless: the user's own uid, which a chown on the host accepts but the container
            // maps to a sub-uid; the folders must be given from inside.
            let user = Integration.isRootless ? getuid() : 1001
            func onHost(_ id: UInt32) -> String { "\(Integration.hostID(id)):\(Integration.hostID(id, group: true))" }
            try await ScenarioTests.withScenario(engine, clusters: [owned, asUser, asImage]) { scenario in
                let script = try scenario.write("nonroot.lua", """
                    -- Writes who it is, and a folder only it may enter, into its node folder.
                    local writer = { name = "writer", start_order = "parallel", config = {} }
                    function writer.node(node, cluster)
                      return {
                        command = { "sh", "-c", "id -u > /data/who && mkdir /data/deep && echo kept > /data/deep/file && chmod 700 /data/deep && echo written && exec sleep 1000" },
                        directories = { data = "/data" },
                        ready = { log = "^written$" },
                      }
                    end
                    local function host_owner(c, node)
                      local path = os.getenv("CCM_LUA_HOME") .. "/" .. c.name .. "/" .. node .. "/data"
                      return exec.host({ "stat", "-c", "%u:%g", path }).stdout:gsub("%s+$", "")
                    end

                    -- The image runs as 1000:1000 itself: only the folders need an owner.
                    local c = cluster.create { profile = writer, name = "\(owned)", image = "\(image)", nodes = 2, owner = "1000:1000" }
                    c:start { timeout = 60 }
                    print("node1 wrote as " .. c:node(1):run({ "cat", "/data/who" }):gsub("%s+$", ""))
                    print("node2 reads " .. c:node(2):run({ "cat", "/data/deep/file" }):gsub("%s+$", ""))
                    print("node1's folder on the host is " .. host_owner(c, "node1"))

                    -- `user` runs the container as that user and gives it the folders.
                    local u = cluster.create { profile = writer, name = "\(asUser)", image = "\(Integration.baseImage)", user = "\(user):\(user)" }
                    u:start { timeout = 60 }
                    print("as user: wrote as " .. u:node(1):run({ "cat", "/data/who" }):gsub("%s+$", ""))
                    print("as user: folder on the host is " .. host_owner(u, "node1"))

                    -- Nothing said: the image's own numeric USER owns the folders.
                    local i = cluster.create { profile = writer, name = "\(asImage)", image = "\(image)" }
                    i:start { timeout = 60 }
                    print("as image: wrote as " .. i:node(1):run({ "cat", "/data/who" }):gsub("%s+$", ""))
                    """)
                try await scenario.expectSuccess(script, printing: [
                    "node1 wrote as 1000",
                    "node2 reads kept",
                    "node1's folder on the host is \(onHost(1000))",
                    "as user: wrote as \(user)",
                    "as user: folder on the host is \(onHost(user))",
                    "as image: wrote as 1000",
                ], leaving: [owned, asUser, asImage])
            }
        }
    }

    /// ccm-lua as an ordinary user in the `docker` group (a common set-up): it may neither give
    /// the node's folders to the container's user nor remove what that user wrote, so both happen
    /// in throwaway containers. Docker only: an ordinary user's Podman is rootless Podman, which
    /// the rootless job covers (scripts/test-rootless runs this suite as that user).
    @Test func anOrdinaryUserInTheDockerGroupGetsFoldersGivenAndRemoved() async throws {
        _ = try await Integration.runtime(.docker)
        let (root, home) = try Integration.ordinaryUserFolder("ordinary")
        let name = ScenarioTests.unique("ordinary", .docker)
        func cleanUp() async {
            _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: CLIContainerRuntime(engine: .docker))
            try? FileManager.default.removeItem(at: root)
        }
        do {
            let script = root.appendingPathComponent("ordinary.lua")
            try """
                local writer = { name = "writer", start_order = "parallel", config = {} }
                function writer.node(node, cluster)
                  return {
                    command = { "sh", "-c", "id -u > /data/who && mkdir /data/deep && echo kept > /data/deep/file && chmod 700 /data/deep && echo written && exec sleep 1000" },
                    directories = { data = "/data" },
                    ready = { log = "^written$" },
                  }
                end
                local c = cluster.create { profile = writer, name = "\(name)", image = "\(Integration.baseImage)", user = "1001:1001", nodes = 2 }
                c:start { timeout = 60 }
                print("ccm-lua runs as " .. exec.host({ "id", "-u" }).stdout:gsub("%s+$", ""))
                print("the node wrote as " .. c:node(1):run({ "cat", "/data/who" }):gsub("%s+$", ""))
                print("node2 wrote as " .. c:node(2):run({ "cat", "/data/who" }):gsub("%s+$", ""))
                local data = os.getenv("CCM_LUA_HOME") .. "/" .. c.name .. "/node1/data"
                print("its folder is " .. exec.host({ "stat", "-c", "%u:%g", data }).stdout:gsub("%s+$", ""))
                """.write(to: script, atomically: true, encoding: .utf8)
            let (status, stdout, stderr) = try Integration.runAsOrdinaryUser(script, root: root, home: home)
            #expect(status == 0, "stderr:\n\(stderr)")
            for line in ["ccm-lua runs as 1000", "the node wrote as 1001", "node2 wrote as 1001", "its folder is 1001:1001"] {
                #expect(stdout.contains(line), "missing '\(line)' in:\n\(stdout)\nstderr:\n\(stderr)")
            }
            // The end of the script removed it all, 1001's files in a folder only 1001 may enter too.
            #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(name).path))
            #expect(try await CLIContainerRuntime(engine: .docker).listContainers(labels: [Labels.cluster: name]).isEmpty)
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }
}
