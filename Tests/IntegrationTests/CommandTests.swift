import Foundation
import Testing
import Core

/// The cluster subcommands (`ls`, `status`, `logs`, `exec`, `rm`, `gc`) through the built binary,
/// on both engines, against clusters a script created and kept, as a user at a shell would.
/// Serialized: `gc` looks at every engine, so one case's orphan must not exist while the other runs.
@Suite(.serialized) struct CommandTests {
    static func home() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-cli-\(UUID().uuidString)")
    }

    static func name(_ what: String, _ engine: Engine) -> String {
        "cli-\(Labels.runID.prefix(6))-\(what)-\(engine.rawValue.prefix(1))"
    }

    /// A Lua chunk creating an etcd cluster on `engine`.
    static func create(_ name: String, _ engine: Engine, nodes: Int, keep: Bool, start: Bool) -> String {
        "local c = cluster.create{profile = \"etcd\", image = \"\(Integration.etcdImage)\", nodes = \(nodes), name = \"\(name)\", "
            + "runtime = \"\(engine.rawValue)\", keep = \(keep)}\n" + (start ? "c:start()\n" : "")
    }

    /// Runs `body` with a home folder; afterwards removes whatever carries the names' labels, even
    /// when the test failed half-way, and the folder.
    static func withHome(_ runtime: CLIContainerRuntime, names: [String], _ body: (URL) async throws -> Void) async throws {
        let home = home()
        defer { try? FileManager.default.removeItem(at: home) }
        do { try await body(home) } catch {
            for name in names { _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: runtime) }
            throw error
        }
        for name in names {
            let left = try await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: runtime)
            #expect(left.isEmpty, "left behind by the test: \(left)")
        }
    }

    @Test(arguments: Engine.allCases)
    func lsStatusLogsExecAndRmOnAKeptCluster(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let name = Self.name("life", engine)
        try await Self.withHome(runtime, names: [name]) { home in
            let created = try Binary.run(["-e", Self.create(name, engine, nodes: 2, keep: true, start: true)], home: home)
            try #require(created.status == 0, "\(created.stderr)")

            let ls = try Binary.run(["ls"], home: home)
            #expect(ls.status == 0)
            let row = ls.stdout.split(separator: "\n").last.map { $0.split(separator: " ").map(String.init) }
            #expect(row?.prefix(5) == [name, engine.rawValue, "2", "yes", "etcd"], "\(ls.stdout)")
            let json = try Binary.run(["ls", "--json"], home: home)
            let list = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            #expect(list?.first?["name"] as? String == name && list?.first?["keep"] as? Bool == true)

            let status = try Binary.run(["status", name], home: home)
            #expect(status.status == 0, "\(status.stderr)")
            let nodes = status.stdout.split(separator: "\n").filter { $0.hasPrefix("node") }.map { $0.split(separator: " ").map(String.init) }
            #expect(nodes.map { $0[0] } == ["node1", "node2"], "\(status.stdout)")
            #expect(nodes.allSatisfy { $0[1] == "running" && $0[2].contains(".") && $0[3] == Integration.etcdImage }, "\(status.stdout)")

            let logs = try Binary.run(["logs", name, "node1"], home: home)
            #expect(logs.status == 0)
            #expect(logs.stdout.contains("ready to serve client requests"))
            #expect(try Binary.run(["logs", name, "node1", "--tail", "2"], home: home).stdout.split(separator: "\n").count == 2)

            let exec = try Binary.run(["exec", name, "node1", "--", "sh", "-c", "echo out; echo err >&2; exit 7"], home: home)
            #expect(exec.status == 7)
            #expect(exec.stdout == "out\n" && exec.stderr == "err\n", "\(exec)")
            let etcdctl = try Binary.run(["exec", name, "node2", "--", "etcdctl", "member", "list"], home: home)
            #expect(etcdctl.status == 0 && etcdctl.stdout.contains("node1") && etcdctl.stdout.contains("node2"))

            try await followsNewLinesUntilInterrupted(name, runtime: runtime, home: home)

            let stopped = try Binary.run(["exec", name, "node1", "--", "true"], home: home)
            #expect(stopped.status == 1 && stopped.stderr.contains("node1 of cluster '\(name)' is exited"), "\(stopped.stderr)")

            let rm = try Binary.run(["rm", name], home: home)
            #expect(rm.status == 0, "\(rm.stderr)")
            #expect(rm.stdout.contains("removed \(name) on \(engine.rawValue): 2 containers"), "\(rm.stdout)")
            #expect(rm.stdout.contains("network ccm-lua-\(name)"))
            #expect(try await runtime.listContainers(labels: [Labels.cluster: name]).isEmpty)
            #expect(try await runtime.listNetworks(labels: [Labels.cluster: name]).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(name).path))
            let again = try Binary.run(["rm", name], home: home)
            #expect(again.status == 0 && again.stdout.contains("nothing to remove"), "\(again)")
            let gone = try Binary.run(["status", name], home: home)
            #expect(gone.status == 1 && gone.stderr.contains("no cluster named '\(name)'"))
        }
    }

    /// `logs -f` prints what node1 says when it is stopped, then ends on SIGINT with 130 and leaves
    /// no engine log process running.
    func followsNewLinesUntilInterrupted(_ name: String, runtime: CLIContainerRuntime, home: URL) async throws {
        let follow = try Binary.Running(["logs", "-f", name, "node1", "--tail", "1"], home: home)
        defer { if follow.process.isRunning { kill(follow.process.processIdentifier, SIGKILL) } }
        #expect(await follow.waitForOutput("\n", seconds: 30), "nothing printed: \(follow.stderr)")
        #expect(follow.stdout.split(separator: "\n").count == 1)
        try await runtime.stop(Cluster.containerName(name, "node1"), timeout: 10)
        #expect(await follow.waitForOutput("received terminated signal", seconds: 60), "\(follow.stdout.suffix(500))")
        kill(follow.process.processIdentifier, SIGINT)
        #expect(await follow.waitForExit(seconds: 30))
        #expect(follow.process.terminationStatus == 130, "\(follow.stderr)")
        let container = Cluster.containerName(name, "node1")
        #expect(await eventually(30) { !Self.anyProcess { $0.contains("logs") && $0.contains(container) } })
    }

    static func anyProcess(_ matches: (String) -> Bool) -> Bool {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int32($0) != nil }
        return pids.contains { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return matches(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " "))
        }
    }

    @Test(arguments: Engine.allCases)
    func gcRemovesTheClusterOfAKilledProcessButNotAKeptOne(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let orphan = Self.name("orphan", engine), kept = Self.name("kept", engine)
        try await Self.withHome(runtime, names: [orphan, kept]) { home in
            let keptRun = try Binary.run(["-e", Self.create(kept, engine, nodes: 1, keep: true, start: false)], home: home)
            try #require(keptRun.status == 0, "\(keptRun.stderr)")

            let owner = try Binary.Running(["-e", Self.create(orphan, engine, nodes: 1, keep: false, start: false)
                                            + "print('ready'); io.stdout:flush(); sleep(600)"], home: home,
                                           environment: [Reaper.switchVariable: "off"])  // gc is the fallback under test
            defer { if owner.process.isRunning { kill(owner.process.processIdentifier, SIGKILL) } }
            try #require(await owner.waitForOutput("ready\n", seconds: 60), "\(owner.stderr)")
            kill(owner.process.processIdentifier, SIGKILL)
            #expect(await owner.waitForExit(seconds: 30))
            #expect(try await runtime.listContainers(labels: [Labels.cluster: orphan]).count == 1)

            let gc = try Binary.run(["gc"], home: home)
            #expect(gc.status == 0, "\(gc.stderr)")
            #expect(gc.stdout.contains("removed \(orphan) on \(engine.rawValue): 1 container, 1 network, state (owner pid \(owner.process.processIdentifier) is gone)"),
                    "\(gc.stdout)")
            #expect(!gc.stdout.contains(kept))
            #expect(try await runtime.listContainers(labels: [Labels.cluster: orphan]).isEmpty)
            #expect(try await runtime.listNetworks(labels: [Labels.cluster: orphan]).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(orphan).path))
            #expect(try await runtime.listContainers(labels: [Labels.cluster: kept]).count == 1)

            let ls = try Binary.run(["ls", "-q"], home: home)
            #expect(ls.stdout == "\(kept)\n")
            let rm = try Binary.run(["rm", "--all"], home: home)
            #expect(rm.status == 0 && rm.stdout.contains("removed \(kept) on \(engine.rawValue): 1 container"), "\(rm)")
        }
    }
}
