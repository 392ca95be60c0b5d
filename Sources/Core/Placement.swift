/// Which host each node of a cluster runs on: by datacenter (`placement = {dc1 = "h1", dc2 = "h2"}`
/// with `nodes = {dc1 = 3, dc2 = 3}`), else round-robin over the hosts in the order given.
public enum Placement {
    /// Node name -> host name, for nodes in index order. Errors say what to write.
    public static func place(_ nodes: [(name: String, dc: String?)], hosts: [String],
                             byDatacenter placement: [String: String]?) throws -> [String: String] {
        guard !hosts.isEmpty else {
            if placement != nil {
                throw ClusterError(.usage, "placement needs hosts: add hosts = {h1 = \"unix:///var/run/docker.sock\", h2 = \"tcp://...\"} to the cluster spec")
            }
            return [:]
        }
        guard let placement else {
            var result: [String: String] = [:]
            for (i, node) in nodes.enumerated() { result[node.name] = hosts[i % hosts.count] }
            return result
        }
        let datacenters = Set(nodes.compactMap(\.dc))
        guard !datacenters.isEmpty else {
            throw ClusterError(.usage, "placement places datacenters, but nodes is a count; write nodes = {\(placement.keys.sorted().map { "\($0) = 3" }.joined(separator: ", "))}, or leave placement out for round-robin over the hosts")
        }
        for (dc, host) in placement.sorted(by: { $0.key < $1.key }) {
            guard datacenters.contains(dc) else {
                throw ClusterError(.usage, "placement.\(dc): the cluster has no datacenter \(dc) (datacenters: \(datacenters.sorted().joined(separator: ", ")))")
            }
            guard hosts.contains(host) else {
                throw ClusterError(.usage, "placement.\(dc) = \"\(host)\": no host named \(host) (hosts: \(hosts.joined(separator: ", ")))")
            }
        }
        if let missing = datacenters.sorted().first(where: { placement[$0] == nil }) {
            throw ClusterError(.usage, "placement has no host for datacenter \(missing): add \(missing) = \"\(hosts[0])\" (hosts: \(hosts.joined(separator: ", ")))")
        }
        var result: [String: String] = [:]
        for node in nodes { if let dc = node.dc { result[node.name] = placement[dc] } }
        return result
    }

    /// The host for a node added later: its datacenter's, else the host with the fewest nodes
    /// (the first such in the order given), so round-robin goes on.
    public static func host(forNewNodeIn dc: String?, hosts: [String], byDatacenter placement: [String: String]?,
                            current: [String]) throws -> String? {
        guard !hosts.isEmpty else { return nil }
        if let placement {
            guard let dc, let host = placement[dc] else {
                throw ClusterError(.usage, "this cluster places nodes by datacenter (\(placement.keys.sorted().joined(separator: ", "))): add the node with add_node{dc = \"\(placement.keys.sorted()[0])\"}")
            }
            return host
        }
        let counts = Dictionary(current.map { ($0, 1) }, uniquingKeysWith: +)
        return hosts.min { counts[$0, default: 0] < counts[$1, default: 0] }
    }
}
