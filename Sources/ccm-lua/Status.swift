import ArgumentParser
import Core
import Foundation

/// `ccm-lua status [CLUSTER]`: what each node's container is doing, asked of the engine the
/// cluster was created on.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the nodes of a cluster (or of every cluster): state, IP, image.",
        discussion: """
            STATE is the node's (created, running, paused, exited; "removed" when the container \
            was removed behind ccm-lua's back). Exits 1 when the cluster does not exist or its \
            engine does not answer.
            """)

    @Argument(help: "The cluster; when omitted, the current one (`create`, `switch`) if set, else every cluster.")
    var cluster: String?

    @Flag(name: .long, help: "Print JSON: one object per cluster with its nodes.")
    var json = false

    @Flag(name: .shortAndLong, help: "Also show the exact image each node runs: its id and digest.")
    var verbose = false

    func run() async throws {
        let inventory = ClusterInventory()
        // As `ccm status`: the current cluster (`ccm-lua create`/`switch`) when one is set and exists.
        let cluster = self.cluster ?? CurrentCluster(store: inventory.store).name.flatMap { inventory.store.exists($0) ? $0 : nil }
        let names = cluster.map { [$0] } ?? inventory.store.list()
        if let cluster {
            do { _ = try inventory.record(cluster) } catch { throw Output.fail("status", error) }
        }
        if names.isEmpty && !json {
            print("no clusters in \(inventory.store.home.path)")
            return
        }
        var failed = false
        var objects: [[String: Any]] = []
        for (index, name) in names.enumerated() {
            do {
                let (record, nodes) = try await inventory.status(name)
                if json {
                    objects.append(Self.object(record, nodes))
                } else {
                    if index > 0 { print("") }
                    print(verbose ? ImageText.pinned(record, nodes) : Self.text(record, nodes))
                }
            } catch {
                failed = true
                Output.complain("status", "cluster '\(name)': \(error)")
            }
        }
        if json { print(Output.json(objects)) }
        if failed { throw ExitCode(1) }
    }

    static func text(_ record: ClusterRecord, _ nodes: [NodeStatus]) -> String {
        guard let hosts = record.hosts, !hosts.isEmpty else {
            let head = "\(record.name) (\(record.profile) on \(record.engine.rawValue)\(record.keep ? ", kept" : ""))"
            let rows = nodes.map { [$0.name, $0.nodeState, $0.ip ?? "-", $0.image] }
            return head + "\n" + Output.table(["NODE", "STATE", "IP", "IMAGE"], rows)
        }
        // A cluster across hosts: where each node runs, and where each host is.
        let places = hosts.map { "\($0.name) = \($0.address)" }.joined(separator: ", ")
        let head = "\(record.name) (\(record.profile) on \(hosts.count) hosts: \(places)\(record.keep ? "; kept" : ""))"
        let hostOf = Dictionary(record.nodes.map { ($0.name, $0.host ?? "-") }, uniquingKeysWith: { a, _ in a })
        let rows = nodes.map { [$0.name, hostOf[$0.name] ?? "-", $0.nodeState, $0.ip ?? "-", $0.image] }
        return head + "\n" + Output.table(["NODE", "HOST", "STATE", "IP", "IMAGE"], rows)
    }

    static func object(_ record: ClusterRecord, _ nodes: [NodeStatus]) -> [String: Any] {
        ["name": record.name, "engine": record.engine.rawValue, "keep": record.keep,
         "nodes": nodes.map { node -> [String: Any] in
            var fields: [String: Any] = ["name": node.name, "state": node.nodeState, "ip": node.ip ?? NSNull(), "image": node.image]
            let pinned = record.nodes.first { $0.name == node.name }
            fields["image_id"] = pinned?.imageID ?? NSNull()
            fields["image_digest"] = pinned?.imageDigest ?? NSNull()
            if let host = pinned?.host { fields["host"] = host }
            return fields
         }].merging(record.hosts.map { hosts in ["hosts": Dictionary(hosts.map { ($0.name, $0.address) }, uniquingKeysWith: { a, _ in a })] } ?? [:]) { a, _ in a }
    }
}
