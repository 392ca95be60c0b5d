import Foundation
import Testing
@testable import Core

/// The etcd profile's default image (upstream etcd since 3.5.7) has no shell. These run the same
/// things on `ccm-lua-test/etcd-noshell:3.4`: etcd's binaries on an empty base, no /bin/sh.
@Suite(.serialized) struct ShellLessImageTests {
    static let image = "ccm-lua-test/etcd-noshell:3.4"

    @Test(arguments: Engine.allCases)
    func anEtcdClusterRunsOnAnImageWithoutShell(_ engine: Engine) async throws {
        _ = try await Integration.runtime(engine, images: [Self.image])
        let name = ScenarioTests.unique("noshell", engine)
        try await ScenarioTests.withScenario(engine, clusters: [name]) { scenario in
            let script = try scenario.write("noshell.lua", """
                local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 3, image = "\(Self.image)" }
                c:start()
                local leader = wait_until(function() return c:node(1):leader() end, { timeout = 60 })
                print("leader is " .. leader)
                c:node(1):etcdctl("put", "k", "v")
                print("node3 reads " .. c:node(3):etcdctl("get", "k", "--print-value-only"):gsub("%s+$", ""))
                local ok, err = pcall(function() return c:node(2):exec("etcdctl get k") end)
                print("string command: ok=" .. tostring(ok) .. " kind=" .. tostring(err.kind))
                print("message: " .. tostring(err.message))
                c:node(3):put_file("/tmp/note.txt", "copied in")
                print("node3 file: " .. c:node(3):get_file("/tmp/note.txt"))
                c:node(2):stop()
                c:node(2):start()
                print("after restart node2 reads " .. c:node(2):etcdctl("get", "k", "--print-value-only"):gsub("%s+$", ""))
                """)
            try await scenario.expectSuccess(script, printing: [
                "leader is node",
                "node3 reads v",
                "string command: ok=false kind=exec",
                "message: node2's image has no /bin/sh: pass the command as an argv table, e.g. {'etcdctl', 'get', 'k'}",
                "node3 file: copied in",
                "after restart node2 reads v",
            ], leaving: [name])
        }
    }

    /// The failover example (leader stopped, a new one elected, the old one rejoins) on the
    /// shell-less image, as a user of the etcd profile's default image would run it.
    @Test(arguments: Engine.allCases)
    func theEtcdFailoverExampleRunsOnAnImageWithoutShell(_ engine: Engine) async throws {
        _ = try await Integration.runtime(engine, images: [Self.image])
        let script = Scenario.repository.appendingPathComponent("examples/etcd-failover.lua").path
        var created: [String] = []
        try await ScenarioTests.withScenario(engine, clusters: []) { scenario in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Binary.path)
            process.arguments = [script]
            var env = scenario.environment
            env["ETCD_DOCKER_IMAGE"] = Self.image
            process.environment = env
            process.currentDirectoryURL = scenario.folder
            let errors = scenario.folder.appendingPathComponent("failover-stderr.txt")
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: errors)
            process.standardOutput = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            created = stderr.matches(of: /done: (\S+) survived/).map { String($0.1) }
            #expect(process.terminationStatus == 0, "stderr:\n\(stderr)")
            #expect(stderr.contains("new leader is node"))
            #expect(stderr.contains("✓ check it rejoined with every write"))
            #expect(created.count == 1)
            #expect(try await scenario.leftovers(created).isEmpty)
            await scenario.removeAll(created)
        }
    }

    /// No shell means no `kill` inside: the process is found from the host by its marker.
    @Test(arguments: Engine.allCases)
    func aTimedOutExecIsKilledWithoutAShell(engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Self.image])
        try await Integration.withScope(runtime, "noshell-timeout") { scope in
            let name = try await scope.run("n1", image: Self.image, command: ["etcd", "--data-dir", "/tmp/etcd"])
            let key = "never-\(UInt32.random(in: .min ... .max))"
            var request = ExecRequest(argv: ["etcdctl", "watch", key])
            request.timeout = 3
            let error = await expectRuntimeError(.timeout) { _ = try await runtime.exec(name, request) }
            #expect(error?.summary.contains("was killed") == true, "\(String(describing: error))")
            let gone = await eventually(10) { !Self.hostCommandLines().contains { $0.contains("watch \(key)") } }
            #expect(gone, "`etcdctl watch \(key)` still runs after its exec timed out")
        }
    }

    /// When the host cannot remove what a container wrote, a throwaway container of one of the
    /// cluster's images does, without a shell; with none that has `rm`, the error says what to do.
    @Test(arguments: Engine.allCases)
    func theStateFolderIsRemovedInAContainerWithoutAShell(engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Self.image, Integration.baseImage])
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-noshell-\(UUID().uuidString)")
        let store = StateStore(home: home)
        let suffix = "\(Labels.runID.prefix(6))-\(engine.rawValue.prefix(1))"
        let names = ["rmf-\(suffix)-a", "rmf-\(suffix)-b"]
        func file(_ cluster: String) -> String { store.nodeDirectory(cluster, "node1").appendingPathComponent("data/deep/file").path }
        func cleanUp() async {
            try? Self.setImmutable(file(names[1]), false)
            if Integration.isRootless { _ = try? await ProcessRunner.run(["podman", "unshare", "rm", "-rf", home.path]) }
            for n in names { _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: n], in: runtime) }
            try? FileManager.default.removeItem(at: home)
        }

        func make(_ cluster: String, images: [String]) async throws -> Cluster {
            let nodes = images.enumerated().map { i, image in
                NodeSpec(name: "node\(i + 1)", index: i + 1, plan: NodePlan(image: image))
            }
            let c = try await Cluster.create(ClusterSpec(name: cluster, profile: "generic", image: images[0], nodes: nodes),
                                             runtime: runtime, store: store)
            // As a container would leave it: another user's files in a folder only that user may enter.
            let data = store.nodeDirectory(cluster, "node1").appendingPathComponent("data/deep")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try Data("x".utf8).write(to: data.appendingPathComponent("file"))
            _ = chmod(data.path, 0o700)
            if Integration.isRootless {
                // The container's uid 1000 is one of this user's sub-uids, which only the user
                // namespace can hand out.
                let out = try await ProcessRunner.run(["podman", "unshare", "chown", "-R", "1000:1000", data.path])
                try #require(out.code == 0, "\(out.stderrText)")
            } else {
                _ = chown(data.path, 1000, 1000)
            }
            return c
        }

        func check() async throws {
            // The first image has no `rm`: the next one empties the folder.
            let mixed = try await make(names[0], images: [Self.image, Integration.baseImage])
            let refusals = try await mixed.emptyFolderInContainer()
            #expect(refusals.isEmpty, "\(refusals)")
            let left = try FileManager.default.contentsOfDirectory(atPath: store.clusterDirectory(names[0]).path)
            #expect(left.isEmpty, "left in the folder: \(left)")
            try await mixed.remove()
            #expect(!FileManager.default.fileExists(atPath: store.clusterDirectory(names[0]).path))

            // No image has `rm`, and the host cannot remove the file either (immutable, as root
            // stands in here for a user who may not delete another's files; rootless, the sub-uid's
            // folder is closed to the user already): the error says what to do.
            let bare = try await make(names[1], images: [Self.image])
            let folder = store.clusterDirectory(names[1]).path
            if !Integration.isRootless { try Self.setImmutable(file(names[1]), true) }
            do {
                try await bare.removeFolderInContainer()
                Issue.record("removal with no image that has `rm` should fail")
            } catch let error as ClusterError {
                #expect(error.kind == .state)
                #expect(error.message.contains("image \(Self.image) has no `rm`"), "\(error)")
                let advice = Integration.isRootless ? "remove it in the engine's user namespace: podman unshare rm -rf \(folder)"
                                                    : "remove it as root: sudo rm -rf \(folder)"
                #expect(error.message.contains(advice), "\(error)")
            }
            if Integration.isRootless {
                _ = try await ProcessRunner.run(["podman", "unshare", "rm", "-rf", store.nodeDirectory(names[1], "node1").appendingPathComponent("data").path])
            } else {
                try Self.setImmutable(file(names[1]), false)
            }
            try await bare.remove()
            #expect(!FileManager.default.fileExists(atPath: store.clusterDirectory(names[1]).path))
        }
        do {
            try await check()
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

    static func setImmutable(_ path: String, _ on: Bool) throws {
        let chattr = Process()
        chattr.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        chattr.arguments = [on ? "+i" : "-i", path]
        try chattr.run()
        chattr.waitUntilExit()
        if chattr.terminationStatus != 0 { throw CocoaError(.fileWriteNoPermission) }
    }

    /// Command lines of every process on this machine (a local engine's container processes too).
    static func hostCommandLines() -> [String] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int32($0) != nil }
        return pids.compactMap { pid in
            FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map {
                String(decoding: $0, as: UTF8.self).split(separator: "\0").joined(separator: " ")
            }
        }
    }
}
