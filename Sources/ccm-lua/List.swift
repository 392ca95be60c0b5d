import ArgumentParser
import Core
import Foundation

/// `ccm-lua ls`: the clusters in the state directory, from their records alone, so it answers
/// even when no engine runs (`status` asks the engines).
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the clusters in the state directory.",
        discussion: """
            One line per cluster in CCM_LUA_HOME (default ~/.ccm-lua): name, engine, node count, \
            whether it is kept, profile and creation time. Reads only the state directory; use \
            `ccm-lua status` for what the containers are doing.
            """)

    @Flag(name: .long, help: "Print a JSON array (name, engine, profile, image, nodes, keep, created, ownerPID).")
    var json = false

    @Flag(name: .shortAndLong, help: "Print only the names, one per line.")
    var quiet = false

    func run() throws {
        let inventory = ClusterInventory()
        let entries = inventory.entries()
        if json {
            print(Output.json(entries.map(Self.object)))
        } else if quiet {
            entries.forEach { print($0.name) }
        } else if entries.isEmpty {
            print("no clusters in \(inventory.store.home.path)")
        } else {
            let rows = entries.map { entry -> [String] in
                guard let r = entry.record else { return [entry.name, "?", "?", "?", "?", "unreadable: run `ccm-lua rm \(entry.name)`"] }
                return [r.name, r.engine.rawValue, "\(r.nodes.count)", r.keep ? "yes" : "no", r.profile,
                        r.createdAt.formatted(.iso8601)]
            }
            print(Output.table(["NAME", "ENGINE", "NODES", "KEPT", "PROFILE", "CREATED"], rows))
        }
    }

    static func object(_ entry: ClusterInventory.Entry) -> [String: Any] {
        guard let r = entry.record else { return ["name": entry.name, "error": entry.problem ?? "unreadable"] }
        return ["name": r.name, "engine": r.engine.rawValue, "profile": r.profile, "image": r.image,
                "nodes": r.nodes.map(\.name), "keep": r.keep, "created": r.createdAt.formatted(.iso8601),
                "ownerPID": Int(r.ownerPID)]
    }
}
