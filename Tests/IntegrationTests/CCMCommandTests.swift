import Foundation
import Testing
import Core

/// ccm's commands through the built binary only, as a shell user types them, on both engines with
/// the etcd profile; and a cluster made from the shell is one a script attaches to.
@Suite(.serialized) struct CCMCommandTests {
    static func name(_ what: String, _ engine: Engine) -> String {
        "ccm-\(Labels.runID.prefix(6))-\(what)-\(engine.rawValue.prefix(1))"
    }

    /// Runs `body` with a fresh state folder; removes what carries `cluster`'s label afterwards,
    /// also when the test failed half-way.
    static func withHome(_ runtime: CLIContainerRuntime, cluster: String, _ body: (URL) async throws -> Void) async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-ccm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        do { try await body(home) } catch {
            _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: cluster], in: runtime)
            throw error
        }
        let left = try await ResourceCleanup.removeAll(matching: [Labels.cluster: cluster], in: runtime)
        #expect(left.isEmpty, "left behind by the test: \(left)")
    }

    /// `ccm-lua ARGS` must exit 0; returns stdout.
    @discardableResult
    static func ok(_ arguments: [String], _ home: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try Binary.run(arguments, home: home)
        try #require(result.status == 0, "ccm-lua \(arguments.joined(separator: " ")) exited \(result.status):\n\(result.stderr)",
                     sourceLocation: sourceLocation)
        return result.stdout
    }

    /// NODE → STATE from `ccm-lua status`.
    static func states(_ home: URL) throws -> [String: String] {
        let rows = try ok(["status"], home).split(separator: "\n").filter { $0.hasPrefix("node") }.map { $0.split(separator: " ") }
        return Dictionary(uniqueKeysWithValues: rows.map { (String($0[0]), String($0[1])) })
    }

    @Test(arguments: Engine.allCases)
    func createStartExecStopStartUpdateconfAddAndRemoveFromTheShell(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let name = Self.name("life", engine)
        try await Self.withHome(runtime, cluster: name) { home in
            try Self.ok(["create", name, "-n", "3", "--profile", "etcd", "--docker-image", Integration.etcdImage,
                         "--container-runtime", engine.rawValue], home)
            #expect(try Self.ok(["list"], home) == " *\(name)\n")
            #expect(try Self.states(home) == ["node1": "created", "node2": "created", "node3": "created"])
            try Self.ok(["start"], home)
            #expect(try Self.states(home) == ["node1": "running", "node2": "running", "node3": "running"])

            let members = try Self.ok(["node1", "exec", "--", "etcdctl", "member", "list"], home)
            #expect(["node1", "node2", "node3"].allSatisfy { members.contains("started, \($0),") }, "\(members)")

            try Self.ok(["node2", "stop"], home)
            #expect(try Self.ok(["node2", "status"], home) == "node2: exited\n")
            try Self.ok(["node2", "start"], home)
            #expect(try Self.ok(["node2", "status"], home) == "node2: running\n")

            // The script API sees the change: the cluster made from the shell is one cluster.get attaches to.
            try Self.ok(["updateconf", "heartbeat-interval:100"], home)
            let seen = try Self.ok(["-e", "print(cluster.get(\"\(name)\"):node(3):config()[\"heartbeat-interval\"])"], home)
            #expect(seen == "100\n", "\(seen)")
            try Self.ok(["node3", "stop"], home)
            try Self.ok(["node3", "start"], home)
            let command = try Self.ok(["node3", "exec", "--", "cat", "/proc/1/cmdline"], home)
            #expect(command.contains("--heartbeat-interval=100"), "\(command)")

            try Self.ok(["add", "node4", "-s"], home)
            #expect(try Self.states(home)["node4"] == "running")
            // updateconf changed the cluster's configuration, not only that of the nodes it had.
            let added = try Self.ok(["node4", "exec", "--", "cat", "/proc/1/cmdline"], home)
            #expect(added.contains("--heartbeat-interval=100"), "\(added)")
            let grown = try Self.ok(["node1", "exec", "--", "etcdctl", "member", "list"], home)
            #expect(grown.contains("started, node4,"), "\(grown)")
            #expect(try Self.ok(["liveset"], home).split(separator: ",").count == 4)

            let removed = try Self.ok(["remove"], home)
            #expect(removed.contains("removed \(name)"), "\(removed)")
            #expect(try Self.ok(["list"], home) == "")
            #expect(try await runtime.listContainers(labels: [Labels.cluster: name]).isEmpty)
        }
    }

    @Test(arguments: Engine.allCases)
    func node3RemoveLeavesATwoMemberClusterAndNothingOfNode3(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let name = Self.name("rmnode", engine)
        try await Self.withHome(runtime, cluster: name) { home in
            try Self.ok(["create", name, "-n", "3", "--profile", "etcd", "--docker-image", Integration.etcdImage,
                         "--container-runtime", engine.rawValue, "-s"], home)
            let folder = home.appendingPathComponent(name).appendingPathComponent("node3")
            #expect(FileManager.default.fileExists(atPath: folder.path))

            try Self.ok(["node3", "remove"], home)
            #expect(try Self.states(home) == ["node1": "running", "node2": "running"])
            let members = try Self.ok(["node1", "exec", "--", "etcdctl", "member", "list"], home)
            #expect(members.split(separator: "\n").count == 2 && !members.contains("node3"), "\(members)")
            #expect(try await runtime.listContainers(labels: [Labels.cluster: name]).map(\.name).sorted()
                    == ["\(name)-node1", "\(name)-node2"])
            #expect(!FileManager.default.fileExists(atPath: folder.path), "node3's folder is left")
            // Two members of two: writes still have their quorum.
            try Self.ok(["node2", "exec", "--", "etcdctl", "put", "k", "v"], home)

            // --force does not ask etcd, and says so.
            let forced = try Binary.run(["node2", "remove", "--force"], home: home)
            #expect(forced.status == 0 && forced.stderr.contains(
                "node2 was removed without leaving the etcd cluster first (force = true): the other nodes may still count it as a member"),
                    "\(forced.stderr)")
            #expect(try Self.states(home) == ["node1": "running"])
            try Self.ok(["remove"], home)
        }
    }

    @Test(arguments: Engine.allCases)
    func pullImageWithAnImageNoRegistryHasIsAClearErrorAndCreatesNothing(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let name = Self.name("pull", engine)
        // A registry address nothing listens on: the pull fails here without leaving the machine.
        let image = "localhost:1/ccm-lua-test/absent:0"
        try await Self.withHome(runtime, cluster: name) { home in
            let result = try Binary.run(["create", name, "-n", "1", "--profile", "etcd", "--docker-image", image,
                                         "--container-runtime", engine.rawValue, "--pull-image"], home: home)
            #expect(result.status == 1)
            // Not a terminal: one line says what is pulled, then why it failed.
            #expect(result.stderr.hasPrefix("pulling image '\(image)' with \(engine.rawValue) (pull = \"always\")\n"
                                            + "ccm-lua create: image '\(image)' could not be pulled (pull = \"always\")"), "\(result.stderr)")
            #expect(result.stderr.contains("ccm-lua image build"), "no advice in: \(result.stderr)")
            #expect(result.stderr.contains("\(engine.rawValue) pull"), "the engine's command is not named: \(result.stderr)")
            #expect(try Self.ok(["list"], home) == "")
            #expect(try await runtime.listNetworks(labels: [Labels.cluster: name]).isEmpty)
        }
    }

    @Test(arguments: Engine.allCases)
    func aClusterAScriptKeptIsOneTheShellCommandsUse(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let name = Self.name("lua", engine)
        try await Self.withHome(runtime, cluster: name) { home in
            try Self.ok(["-e", "cluster.create{profile = \"etcd\", image = \"\(Integration.etcdImage)\", nodes = 1, name = \"\(name)\", "
                         + "runtime = \"\(engine.rawValue)\", keep = true}:start()"], home)
            let none = try Binary.run(["node1", "status"], home: home)
            #expect(none.status != 0 && none.stderr.contains("no current cluster"), "\(none.stderr)")
            try Self.ok(["switch", name], home)
            #expect(try Self.ok(["node1", "status"], home) == "node1: running\n")
            let bad = try Binary.run(["node7", "stop"], home: home)
            #expect(bad.status == 1 && bad.stderr.contains("cluster '\(name)' has no node 'node7' (nodes: node1)"), "\(bad.stderr)")
            try Self.ok(["remove", name], home)
        }
    }

    @Test(arguments: Engine.allCases)
    func populateThenClearStopsTheNodesAndTheirDataIsGoneAtTheNextStart(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let name = Self.name("clear", engine)
        try await Self.withHome(runtime, cluster: name) { home in
            // ccm's two-step creation: the options first, the nodes at populate.
            try Self.ok(["create", name, "--profile", "etcd", "--docker-image", Integration.etcdImage,
                         "--container-runtime", engine.rawValue], home)
            #expect(try await runtime.listContainers(labels: [Labels.cluster: name]).isEmpty)
            #expect(try Self.ok(["list"], home) == " *\(name)\n", "a cluster waiting for populate is the current one")
            try Self.ok(["populate", "-n", "1", "-s"], home)
            try Self.ok(["node1", "exec", "--", "etcdctl", "put", "k", "before"], home)
            #expect(try Self.ok(["node1", "exec", "--", "etcdctl", "get", "k", "--print-value-only"], home) == "before\n")
            try Self.ok(["clear"], home)
            #expect(try Self.states(home) == ["node1": "exited"])
            try Self.ok(["start"], home)
            #expect(try Self.ok(["node1", "exec", "--", "etcdctl", "get", "k", "--print-value-only"], home) == "")
            try Self.ok(["remove"], home)
        }
    }
}
