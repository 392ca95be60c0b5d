import ArgumentParser
import Core
import Foundation

/// `ccm-lua rm CLUSTER...|--all`: what `c:remove()` does, from the shell: for kept clusters and for
/// whatever a crashed or interrupted run left behind.
struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove clusters: containers, network and state.",
        discussion: """
            Idempotent: removing a cluster that is already gone is not an error. A name with no \
            record in the state directory still has its labelled containers and network removed \
            on every engine that answers. Exits 1 when an engine refuses or does not answer (the \
            state is kept, so the command can be repeated).
            """)

    @Argument(help: "The clusters to remove.") var clusters: [String] = []
    @Flag(name: .long, help: "Remove every cluster in the state directory.") var all = false

    func validate() throws {
        if all && !clusters.isEmpty { throw ValidationError("give cluster names or --all, not both") }
        if !all && clusters.isEmpty { throw ValidationError("name the clusters to remove (`ccm-lua ls` lists them), or pass --all") }
    }

    func run() async throws {
        let inventory = ClusterInventory()
        let names = all ? inventory.store.list() : clusters
        if names.isEmpty { print("nothing to remove: no clusters in \(inventory.store.home.path)") }
        var failed = false
        for name in names {
            do {
                let removals = try await inventory.remove(name)
                if removals.isEmpty { print("\(name): nothing to remove (no such cluster, no containers or network labelled with it)") }
                removals.forEach { Output.line(Self.describe($0)) }
            } catch {
                failed = true
                Output.complain("rm", "cannot remove '\(name)': \(error)")
            }
        }
        if failed { throw ExitCode(1) }
    }

    static func describe(_ removal: Removal) -> String {
        var parts: [String] = []
        if !removal.containers.isEmpty {
            parts.append("\(removal.containers.count) container\(removal.containers.count == 1 ? "" : "s") (\(removal.containers.joined(separator: ", ")))")
        }
        if !removal.networks.isEmpty { parts.append("network \(removal.networks.joined(separator: ", "))") }
        if let state = removal.state { parts.append("state \(state)") }
        let engine = removal.engine.map { " on \($0.rawValue)" } ?? ""
        return "removed \(removal.cluster)\(engine): \(parts.isEmpty ? "nothing was left" : parts.joined(separator: ", "))"
    }
}
