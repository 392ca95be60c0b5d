import ArgumentParser
import Core
import Foundation

/// `ccm-lua exec CLUSTER NODE -- CMD...`: runs a command in a node as `docker exec` would, with
/// the node named the ccm way instead of by container name.
struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in a node; exits with the command's exit status.",
        usage: "ccm-lua exec <cluster> <node> -- <command> [args...]",
        discussion: """
            The command runs exactly as given (no shell; use `sh -c '...'` for one), with stdin, \
            stdout and stderr passed through as it runs, and a terminal when stdin is one. \
            Example: ccm-lua exec mycluster node1 -- etcdctl member list
            """)

    @Argument(help: "The cluster.") var cluster: String
    @Argument(help: "The node (node1, node2, ...).") var node: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    /// The words after the node, without the `--` that separates them (ArgumentParser keeps it).
    var argv: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    func validate() throws {
        if argv.isEmpty {
            throw ValidationError("no command given: put it after --, e.g. `ccm-lua exec \(cluster) \(node) -- sh -c 'ls /'`")
        }
    }

    func run() async throws {
        let commandLine: [String]
        let environment: [String: String]
        do {
            let cluster = try ClusterInventory().open(self.cluster)
            let record = try await cluster.node(node)
            // A cluster across hosts: the client of the node's own engine.
            let client = (cluster.runtime as? MultiHostRuntime)?.client(of: record.container) ?? cluster.runtime
            guard let runtime = client.commandLineClient else {
                throw Output.fail("exec", "the \(cluster.runtime.engine.rawValue) engine is not driven through its client here; exec needs the client")
            }
            let state = try await runtime.inspect(record.container).state
            guard state == .running else {
                throw Output.fail("exec", "\(node) of cluster '\(self.cluster)' is \(state.rawValue), not running; start it first (from a script: cluster.get(\"\(self.cluster)\"):node(\"\(node)\"):start())")
            }
            commandLine = runtime.attachedExecCommandLine(record.container, argv, tty: isatty(0) != 0 && isatty(1) != 0)
            environment = runtime.clientEnvironment
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Output.fail("exec", error)
        }
        try replaceProcess(with: commandLine, environment: environment)
    }

    /// execve: the engine client takes over this process, so output streams unbuffered, signals
    /// (Ctrl-C) reach it directly, and its exit status is ours without a relay in between.
    private func replaceProcess(with commandLine: [String], environment: [String: String]) throws -> Never {
        let path = EngineDiscovery.resolve(commandLine[0], path: environment["PATH"])
        guard let path else {
            throw Output.fail("exec", "`\(commandLine[0])` was not found on PATH; `ccm-lua doctor` shows which engines work here")
        }
        fflush(nil)  // nil: every stream; naming stdout is not concurrency-safe in Swift 6
        let args = commandLine.map { strdup($0) } + [nil]
        let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(path, args, env)
        throw Output.fail("exec", "cannot run \(path): \(String(cString: strerror(errno)))")
    }
}
