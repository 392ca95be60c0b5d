import ArgumentParser
import Core
import Foundation

/// `ccm-lua nodeN VERB [args]`: one node of the current cluster, as `ccm nodeN VERB` works.
/// `CCMLua.main` turns `node3 start` into `node node3 start`, so ArgumentParser sees one command.
struct CCMNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "ccm-lua nodeN start|stop|kill|pause|resume|show|status|remove|showlog|updateconf|nodetool|cqlsh|stress|exec",
        usage: "ccm-lua nodeN <verb> [--print-lua] [args...]",
        shouldDisplay: false)

    static let verbs = ["start", "stop", "kill", "pause", "resume", "show", "status", "remove", "showlog", "updateconf",
                        "nodetool", "cqlsh", "stress", "exec"]

    @Argument(help: "node1, node2, ...") var node: String
    @Argument(help: "What to do.") var verb: String
    @Argument(parsing: .captureForPassthrough, help: "The verb's arguments; --print-lua first prints the Lua instead of running it.")
    var arguments: [String] = []

    /// `--print-lua` right after the verb (ArgumentParser cannot take flags beside a passthrough list).
    var printLua: Bool { arguments.first == "--print-lua" }
    var rest: [String] { printLua ? Array(arguments.dropFirst()) : arguments }

    /// What a node verb does.
    enum Action: Equatable {
        case lua(String)
        /// Runs in the node with the terminal attached (`ccm-lua exec`).
        case attached([String])
    }

    func validate() throws {
        guard node.wholeMatch(of: /node[1-9][0-9]*/) != nil else { throw ValidationError("node names are node1, node2, ... (got '\(node)')") }
        _ = try action(cluster: "-")
    }

    /// The words after `--` where a verb takes a command.
    private var words: [String] { rest.first == "--" ? Array(rest.dropFirst()) : rest }

    private func flags(_ allowed: Set<String>) throws -> Set<String> {
        for word in rest where !allowed.contains(word) {
            throw ValidationError(word.hasPrefix("-") ? "unknown option '\(word)' for `\(node) \(verb)`" : "unexpected argument '\(word)' for `\(node) \(verb)`")
        }
        return Set(rest)
    }

    func action(cluster: String) throws -> Action {
        let n = "node_of(get(\(LuaLiteral.string(cluster))), \(LuaLiteral.string(node)))"
        switch verb {
        case "start":
            let f = try flags(["--no-wait", "--wait-other-notice"])
            return .lua("\(n):start{wait = \(!f.contains("--no-wait"))}")
        case "stop":
            let f = try flags(["--not-gently"])
            return .lua("\(n):stop{gently = \(!f.contains("--not-gently"))}")
        case "kill": _ = try flags([]); return .lua("\(n):kill()")
        case "pause": _ = try flags([]); return .lua("\(n):pause()")
        case "resume": _ = try flags([]); return .lua("\(n):resume()")
        case "status":
            _ = try flags([])
            return .lua("local n = \(n)\nprint(n.name .. \": \" .. n:state())")
        case "show":
            _ = try flags([])
            return .lua("""
                local n = \(n)
                print(("%s: %s, ip %s, image %s"):format(n.name, n:state(), n:ip() or "-", n.cluster:images()[n.name].ref))
                print(json.encode(n:config()))
                """)
        case "showlog":
            _ = try flags([])
            return .lua("io.write(\(n):logs{tail = math.maxinteger})")
        case "updateconf":
            return .lua("\(n):set_config(\(LuaLiteral.config(try CCMConfigArguments.parse(rest))))")
        case "nodetool":
            return .lua("""
                local n = \(n)
                if not n.nodetool then error(("profile %s has no nodetool"):format(n.cluster.profile), 0) end
                io.write(n:nodetool(table.unpack(\(LuaLiteral.list(words)))))
                """)
        case "cqlsh":
            if rest.isEmpty { return .attached(["cqlsh"]) }
            guard rest.count == 2, rest[0] == "-x" || rest[0] == "--exec" else {
                throw ValidationError("cqlsh takes -x CQL (or nothing, for an interactive cqlsh)")
            }
            return .lua("""
                local n = \(n)
                if not n.cqlsh then error(("profile %s has no cqlsh"):format(n.cluster.profile), 0) end
                io.write(n:cqlsh(\(LuaLiteral.string(rest[1]))))
                """)
        case "stress": return .attached(["cassandra-stress"] + words)
        case "exec":
            if words.isEmpty { throw ValidationError("no command given: `ccm-lua \(node) exec -- CMD [args...]`") }
            return .attached(words)
        case "remove":
            // ccm's remove; --force skips leaving the cluster first and kills the node at once.
            let f = try flags(["--force"])
            return .lua("\(n):remove{force = \(f.contains("--force"))}")
        default:
            throw ValidationError("unknown node command '\(verb)' (one of: \(Self.verbs.joined(separator: ", ")))")
        }
    }

    func run() async throws {
        let cluster = try CCMErrors.cluster(node + " " + verb)
        do {
            let record = try ClusterInventory().record(cluster)
            guard record.nodes.contains(where: { $0.name == node }) else {
                throw ClusterError(.usage, "cluster '\(cluster)' has no node '\(node)' (nodes: \(record.nodes.map(\.name).joined(separator: ", ")))")
            }
        } catch { throw Output.fail("\(node) \(verb)", error) }
        switch try action(cluster: cluster) {
        case .lua(let body):
            try await CCMLuaChunk.run("\(node) \(verb)", body, printOnly: printLua)
        case .attached(let argv) where printLua:
            Output.line((["exec", cluster, node, "--"] + argv).joined(separator: " "))
        case .attached(let argv):
            let exec = try Exec.parse([cluster, node, "--"] + argv)
            try await exec.run()
        }
    }
}
