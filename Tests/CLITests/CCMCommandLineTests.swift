import Foundation
import Testing
import Core

/// ccm's commands: what each spelling parses to (the Lua it runs, shown by --print-lua), and the
/// errors for bad input. No engine: the state directory is written by hand.
@Suite struct CCMCommandLineTests {
    /// `ClusterCommandTests.home()` (cluster `alpha`: node1, node2), with `alpha` current when asked.
    static func home(current: Bool = true) throws -> URL {
        let home = try ClusterCommandTests.home()
        if current { try "alpha\n".write(to: home.appendingPathComponent("CURRENT"), atomically: true, encoding: .utf8) }
        return home
    }

    static func run(_ arguments: [String], home: URL, env: [String: String] = [:]) async throws -> CLI.Result {
        try await CLI.run(arguments, environment: ["CCM_LUA_HOME": home.path].merging(env) { _, b in b })
    }

    /// The Lua a command runs; the command must succeed.
    static func lua(_ arguments: [String], home: URL, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        // Node commands take it right after the verb: what follows is the verb's.
        var arguments = arguments
        if arguments[0].hasPrefix("node") { arguments.insert("--print-lua", at: 2) } else { arguments.append("--print-lua") }
        let result = try await run(arguments, home: home)
        #expect(result.status == 0, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
        return result.stdout.trimmingCharacters(in: .newlines)
    }

    @Test func createTakesCcmsSpellings() async throws {
        let home = try Self.home(current: false)
        defer { try? FileManager.default.removeItem(at: home) }
        #expect(try await Self.lua(["create", "c1", "-n", "3", "--scylla", "--docker", "scylladb/scylla:4.1.8"], home: home) ==
                #"local c = cluster.create{name = "c1", keep = true, profile = "scylla", image = "scylladb/scylla:4.1.8", nodes = 3}"#)
        #expect(try await Self.lua(["create", "c1", "-n", "3:2", "--profile", "etcd", "--docker-image", "e:1",
                                    "--container-runtime", "podman", "--pull-image", "-s"], home: home) ==
                #"local c = cluster.create{name = "c1", keep = true, profile = "etcd", image = "e:1", nodes = {dc1 = 3, dc2 = 2}, runtime = "podman", pull = "always"}"#
                + "\nc:start()")
        #expect(try await Self.lua(["create", "c1", "-n", "1", "--start"], home: home).hasSuffix("nodes = 1}\nc:start()"))
    }

    @Test func createRefusesBadInput() async throws {
        let home = try Self.home(current: false)
        defer { try? FileManager.default.removeItem(at: home) }
        let cases: [([String], String)] = [
            (["create", "c1", "-n", "0"], "The value '0' is invalid for '-n <n>'"),
            (["create", "c1", "-n", "3:x"], "The value '3:x' is invalid for '-n <n>'"),
            (["create", "Bad", "-n", "1"], "invalid cluster name 'Bad'"),
            (["create", "c1", "-n", "1", "--container-runtime", "lxc"], "--container-runtime must be docker or podman (got 'lxc')"),
            (["create", "c1", "-n", "1", "--scylla", "--profile", "etcd"], "--scylla and --profile etcd contradict each other"),
            (["create", "c1", "-n", "1", "--frobnicate"], "Unknown option '--frobnicate'"),
            (["create", "c1", "-s"], "-s needs nodes"),
            (["create", "alpha", "-n", "1"], "a cluster named 'alpha' exists already; pick another name, `ccm-lua switch alpha` to use it"),
        ]
        for (arguments, message) in cases {
            let result = try await Self.run(arguments, home: home)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("CURRENT").path), "a failed create chose a current cluster")
    }

    @Test func createWithoutNodesWaitsForPopulate() async throws {
        let home = try Self.home(current: false)
        defer { try? FileManager.default.removeItem(at: home) }
        let created = try await Self.run(["create", "later", "--profile", "etcd"], home: home)
        #expect(created.status == 0, "\(created.stderr)")
        // Listed, and current, before populate makes its nodes: it exists for ccm from `create` on.
        #expect(try await Self.run(["list"], home: home).stdout == "  alpha\n *later\n")
        #expect(try await Self.lua(["populate", "-n", "2"], home: home) ==
                #"local c = cluster.create{name = "later", keep = true, profile = "etcd", nodes = 2}"#)
        let populated = try await Self.run(["switch", "alpha"], home: home)
        #expect(populated.status == 0)
        let again = try await Self.run(["populate", "-n", "2"], home: home)
        #expect(again.status == 1 && again.stderr.contains("cluster 'alpha' has its nodes already; add more with `ccm-lua add node<N>`"),
                "\(again.stderr)")
        // What list shows, switch takes.
        let back = try await Self.run(["switch", "later"], home: home)
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try await Self.run(["list"], home: home).stdout == "  alpha\n *later\n")
    }

    @Test func clusterCommandsActOnTheCurrentCluster() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        #expect(try await Self.lua(["start"], home: home) == #"get("alpha"):start{wait = true}"#)
        #expect(try await Self.lua(["start", "--no-wait", "--wait-other-notice"], home: home) == #"get("alpha"):start{wait = false}"#)
        #expect(try await Self.lua(["stop"], home: home) == #"get("alpha"):stop{gently = true}"#)
        #expect(try await Self.lua(["stop", "--not-gently"], home: home) == #"get("alpha"):stop{gently = false}"#)
        // The cluster's configuration: every node's, and that of nodes added later.
        #expect(try await Self.lua(["updateconf", "a:1", "b.c:x y", "b.d:true", "e:0.5"], home: home) ==
            #"get("alpha"):set_config({["a"] = 1, ["e"] = 0.5, ["b"] = {["c"] = "x y", ["d"] = true}})"#)
        #expect(try await Self.lua(["add", "node3", "--dc", "dc2", "-s"], home: home).contains(#"c:add_node{dc = "dc2", start = true}"#))
        #expect(try await Self.lua(["liveset"], home: home).contains(#"get("alpha"):status()"#))
        #expect(try await Self.lua(["show"], home: home).hasPrefix(#"local c = get("alpha")"#))
        #expect(try await Self.lua(["flush"], home: home).contains(#"n:nodetool("flush")"#))
        #expect(try await Self.lua(["compact"], home: home).contains(#"n:nodetool("compact")"#))
        #expect(try await Self.lua(["clear"], home: home) == #"get("alpha"):stop{gently = false}"#)
        #expect(try await Self.run(["list"], home: home).stdout == " *alpha\n")
    }

    @Test func valuesReachLuaByteForByte() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let value = "a\"b\\c\n1é"
        let chunk = try await Self.lua(["node1", "updateconf", "k:" + value], home: home)
        let literal = String(try #require(chunk.firstMatch(of: /\["k"\] = (".*")\}\)$/)?.1, "\(chunk)"))
        #expect(literal == #""a\"b\\c\0101\195\169""#)
        // Lua reads it back as the same bytes.
        let echoed = try await CLI.run(["-e", "io.write(\(literal))"])
        #expect(echoed.stdout == value, "\(echoed.stdout) \(echoed.stderr)")
    }

    @Test func nodeCommandsTakeCcmsVerbs() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let n = #"node_of(get("alpha"), "node2")"#
        #expect(try await Self.lua(["node2", "start", "--no-wait"], home: home) == "\(n):start{wait = false}")
        #expect(try await Self.lua(["node2", "stop", "--not-gently"], home: home) == "\(n):stop{gently = false}")
        #expect(try await Self.lua(["node2", "kill"], home: home) == "\(n):kill()")
        #expect(try await Self.lua(["node2", "remove"], home: home) == "\(n):remove{force = false}")
        #expect(try await Self.lua(["node2", "remove", "--force"], home: home) == "\(n):remove{force = true}")
        #expect(try await Self.lua(["node2", "pause"], home: home) == "\(n):pause()")
        #expect(try await Self.lua(["node2", "resume"], home: home) == "\(n):resume()")
        #expect(try await Self.lua(["node2", "updateconf", "x.y:2"], home: home) == "\(n):set_config({[\"x\"] = {[\"y\"] = 2}})")
        #expect(try await Self.lua(["node2", "nodetool", "status", "-r"], home: home).contains(#"table.unpack({"status", "-r"})"#))
        #expect(try await Self.lua(["node2", "cqlsh", "-x", "SELECT 1"], home: home).contains(#"n:cqlsh("SELECT 1")"#))
        #expect(try await Self.lua(["node2", "showlog"], home: home).contains("logs{tail = math.maxinteger}"))
        #expect(try await Self.lua(["node2", "status"], home: home).contains("n:state()"))
        #expect(try await Self.lua(["node2", "show"], home: home).contains("n:config()"))
        #expect(try await Self.lua(["node2", "exec", "--", "ls", "-l"], home: home) == "exec alpha node2 -- ls -l")
        #expect(try await Self.lua(["node2", "stress", "write", "n=10"], home: home) == "exec alpha node2 -- cassandra-stress write n=10")
        #expect(try await Self.lua(["node2", "cqlsh"], home: home) == "exec alpha node2 -- cqlsh")
    }

    @Test func badNodeInputSaysWhatIsThere() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let cases: [([String], String)] = [
            (["node9", "start"], "ccm-lua node9 start: cluster 'alpha' has no node 'node9' (nodes: node1, node2)"),
            (["node1", "frob"], "unknown node command 'frob' (one of: start, stop,"),
            (["node1", "start", "--bogus"], "unknown option '--bogus' for `node1 start`"),
            (["node1", "kill", "now"], "unexpected argument 'now' for `node1 kill`"),
            (["node1", "exec"], "no command given: `ccm-lua node1 exec -- CMD [args...]`"),
            (["node1", "cqlsh", "-e", "x"], "cqlsh takes -x CQL"),
            (["node1", "remove", "--now"], "unknown option '--now' for `node1 remove`"),
            (["node1", "updateconf", "novalue"], "'novalue' is not key:value"),
            (["add", "node7"], "the next node of 'alpha' is node3"),
            (["add", "nodeX"], "node names are node1, node2, ... (got 'nodeX')"),
            (["add", "node3", "--docker-image", "x:1"], "every node of a ccm-lua cluster runs the cluster's image"),
            (["updateconf"], "give options as key:value"),
            (["stop", "--gently"], "Unknown option '--gently'"),
            (["switch", "nope"], "no cluster named 'nope'"),
        ]
        for (arguments, message) in cases {
            // add node7's check needs the cluster's nodes, which only the Lua run sees: --print-lua shows the guard.
            if arguments == ["add", "node7"] {
                #expect(try await Self.lua(arguments, home: home).contains("the next node of '%s' is %s"))
                continue
            }
            let result = try await Self.run(arguments, home: home)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    @Test func withNoCurrentClusterTheCommandsSayHowToChooseOne() async throws {
        let home = try Self.home(current: false)
        defer { try? FileManager.default.removeItem(at: home) }
        for arguments in [["start"], ["stop"], ["clear"], ["node1", "start"], ["updateconf", "a:1"], ["liveset"], ["add", "node3"]] {
            let result = try await Self.run(arguments, home: home)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("no current cluster: create one with `ccm-lua create NAME -n 3 ...` or choose one with `ccm-lua switch NAME` (clusters: alpha)"),
                    "\(arguments): \(result.stderr)")
        }
        #expect(try await Self.run(["switch", "alpha"], home: home).status == 0)
        #expect(try await Self.run(["list"], home: home).stdout == " *alpha\n")
        try FileManager.default.removeItem(at: home.appendingPathComponent("alpha"))
        let gone = try await Self.run(["start"], home: home)
        #expect(gone.stderr.contains("the current cluster 'alpha' no longer exists"), "\(gone.stderr)")
    }

    @Test func ccmConfigDirNamesTheStateDirectory() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let result = try await CLI.run(["list"], environment: ["CCM_LUA_HOME": "", "CCM_CONFIG_DIR": home.path])
        #expect(result.stdout == " *alpha\n", "\(result.stderr)")
    }
}
