import Foundation
import Testing
import Core

/// The cluster subcommands' arguments, help and "no such cluster/node" advice: everything that
/// needs no engine. A state directory is written by hand (the record format `cluster.json` uses).
@Suite struct ClusterCommandTests {
    /// A state directory holding one kept docker cluster `alpha` with nodes node1 and node2.
    static func home() throws -> URL {
        let home = CLI.scratchPath("home")
        let encoder = JSONEncoder()
        func json<T: Encodable>(_ value: T) throws -> Any { try JSONSerialization.jsonObject(with: encoder.encode(value)) }
        let nodes: [[String: Any]] = try ["node1", "node2"].enumerated().map { index, node in
            ["name": node, "index": index + 1, "container": "alpha-\(node)",
             "plan": try json(NodePlan(image: "example/db:1")), "config": try json(ConfigValue.map([]))]
        }
        let record: [String: Any] = [
            "name": "alpha", "engine": "docker", "profile": "generic", "image": "example/db:1", "network": "ccm-lua-alpha",
            "startOrder": "parallel", "keep": true, "runID": "000000000000", "ownerPID": 1,
            "createdAt": "2026-01-02T03:04:05Z", "nodes": nodes, "services": [String](),
        ]
        let folder = home.appendingPathComponent("alpha")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: record).write(to: folder.appendingPathComponent("cluster.json"))
        return home
    }

    static func run(_ arguments: [String], home: URL) async throws -> CLI.Result {
        try await CLI.run(arguments, environment: ["CCM_LUA_HOME": home.path])
    }

    @Test func helpListsTheSubcommands() async throws {
        let help = try await CLI.run(["--help"])
        for name in ["ls", "status", "logs", "exec", "rm", "gc", "doctor"] {
            #expect(help.stdout.contains("  \(name) "), "\(name) missing from: \(help.stdout)")
        }
        let exec = try await CLI.run(["exec", "--help"])
        #expect(exec.status == 0 && exec.stdout.contains("ccm-lua exec <cluster> <node> -- <command>"))
    }

    @Test func lsShowsEngineNodesAndKeep() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let ls = try await Self.run(["ls"], home: home)
        #expect(ls.status == 0)
        #expect(ls.stdout == """
            NAME   ENGINE  NODES  KEPT  PROFILE  CREATED
            alpha  docker  2      yes   generic  2026-01-02T03:04:05Z

            """)
        #expect(try await Self.run(["ls", "-q"], home: home).stdout == "alpha\n")
        let listing = try await Self.run(["ls", "--json"], home: home).stdout
        let json = try JSONSerialization.jsonObject(with: Data(listing.utf8)) as? [[String: Any]]
        #expect(json?.first?["nodes"] as? [String] == ["node1", "node2"])
    }

    @Test func anEmptyStateDirectorySaysSo() async throws {
        let home = CLI.scratchPath("empty")
        let ls = try await Self.run(["ls"], home: home)
        #expect(ls.status == 0 && ls.stdout == "no clusters in \(home.path)\n")
        #expect(try await Self.run(["ls", "--json"], home: home).stdout == "[\n\n]\n")
        let status = try await Self.run(["status", "nope"], home: home)
        #expect(status.status == 1)
        #expect(status.stderr.contains("no cluster named 'nope'") && status.stderr.contains("there are no clusters"), "\(status.stderr)")
        let rm = try await Self.run(["rm", "--all"], home: home)
        #expect(rm.status == 0 && rm.stdout.contains("nothing to remove"))
    }

    @Test func unknownClusterOrNodeListsWhatExists() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        for command in [["status", "beta"], ["logs", "beta", "node1"], ["exec", "beta", "node1", "--", "true"]] {
            let result = try await Self.run(command, home: home)
            #expect(result.status == 1, "\(command)")
            #expect(result.stderr.contains("ccm-lua \(command[0]): no cluster named 'beta'") && result.stderr.contains("clusters there: alpha"),
                    "\(command): \(result.stderr)")
        }
        let node = try await Self.run(["logs", "alpha", "node9"], home: home)
        #expect(node.status == 1)
        #expect(node.stderr.contains("cluster 'alpha' has no node 'node9' (nodes: node1, node2)"), "\(node.stderr)")
    }

    @Test func logsPrintsTheCapturedFileWithAndWithoutTimestamps() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let file = home.appendingPathComponent("alpha/node1/logs/node.log")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "2026-01-02T03:04:05.000000001Z one\n2026-01-02T03:04:06.000000001Z two\n2026-01-02T03:04:07.000000001Z three\n"
            .write(to: file, atomically: true, encoding: .utf8)
        // No engine is asked: catching up needs one and is skipped quietly when it does not answer.
        let env = ["CCM_LUA_HOME": home.path, "PATH": "/nonexistent"]
        #expect(try await CLI.run(["logs", "alpha", "node1"], environment: env).stdout == "one\ntwo\nthree\n")
        #expect(try await CLI.run(["logs", "alpha", "node1", "--tail", "2"], environment: env).stdout == "two\nthree\n")
        #expect(try await CLI.run(["logs", "alpha", "node1", "--tail", "1", "-t"], environment: env).stdout == "2026-01-02T03:04:07.000000001Z three\n")
    }

    @Test func argumentErrorsAreUsageErrors() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let cases: [([String], String)] = [
            (["rm"], "name the clusters to remove"),
            (["rm", "alpha", "--all"], "not both"),
            (["exec", "alpha", "node1"], "no command given: put it after --"),
            (["exec", "alpha", "node1", "--"], "no command given"),
            (["logs", "alpha"], "Missing expected argument '<node>'"),
            (["logs", "alpha", "node1", "--tail=-3"], "--tail must be 0 or more"),
            (["status", "a", "b"], "Unexpected argument 'b'"),
        ]
        for (arguments, message) in cases {
            let result = try await Self.run(arguments, home: home)
            #expect(result.status == 64, "\(arguments): \(result.status)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
