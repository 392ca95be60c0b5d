/// Pure rule generation for network faults: which iptables rules and tc qdiscs go into which
/// node's network namespace, and the shell lines that add and remove them. No engine, no I/O.

/// Who drops whose packets: node -> the nodes it receives nothing from. Partitions of every shape
/// (groups, majorities ring) reduce to one.
public typealias Grudge = [String: Set<String>]

public enum PartitionShape {
    /// Nodes in different groups cannot reach each other. A node in no group forms, with the other
    /// such nodes, one more group ("node1 apart from the rest" is `[[node1]]`).
    public static func grudge(groups: [[String]], nodes: [String]) throws -> (grudge: Grudge, groups: [[String]]) {
        var groupOf: [String: Int] = [:]
        for (i, group) in groups.enumerated() {
            for node in group {
                guard nodes.contains(node) else { throw FaultError(.usage, "partition: no node '\(node)' in the cluster (nodes: \(nodes.joined(separator: ", ")))") }
                if groupOf[node] != nil { throw FaultError(.usage, "partition: \(node) is in two groups; a node can be on one side only") }
                groupOf[node] = i
            }
        }
        var all = groups.filter { !$0.isEmpty }
        let rest = nodes.filter { groupOf[$0] == nil }
        if !rest.isEmpty { all.append(rest); for n in rest { groupOf[n] = groups.count } }
        guard all.count >= 2 else { throw FaultError(.usage, "partition needs at least two sides; every node is in one group") }
        var grudge: Grudge = [:]
        for node in nodes { grudge[node] = Set(nodes.filter { groupOf[$0] != groupOf[node] }) }
        return (grudge, all)
    }

    public static let presets = ["one", "minority-third", "majority", "majorities-ring", "random-halves"]

    /// The groups (and grudge) of a preset, chosen with `seed`: the same seed and nodes give the
    /// same choice on every run and machine.
    /// - one: a random node alone. minority-third: ⌊(n−1)/3⌋ random nodes (at least one) apart.
    /// - majority: a random majority apart from the rest. random-halves: the nodes shuffled and cut
    ///   in two (the smaller half first).
    /// - majorities-ring: the nodes in a random ring; each hears only its nearest neighbours, so
    ///   every node sees a majority, and no two see the same one. `groups` then lists, per node,
    ///   the majority it sees (its own first).
    public static func preset(_ name: String, nodes: [String], seed: UInt64) throws -> (grudge: Grudge, groups: [[String]]) {
        let n = nodes.count
        guard n >= 2 else { throw FaultError(.usage, "partition '\(name)' needs at least two nodes, the cluster has \(n)") }
        var random = SeededGenerator(seed: seed)
        let shuffled = random.shuffle(nodes)
        func cut(_ k: Int) throws -> (grudge: Grudge, groups: [[String]]) {
            let first = Array(shuffled.prefix(k)).sorted(by: nodeOrder), second = Array(shuffled.dropFirst(k)).sorted(by: nodeOrder)
            return try grudge(groups: [first, second], nodes: nodes)
        }
        switch name {
        case "one": return try cut(1)
        case "minority-third": return try cut(max(1, (n - 1) / 3))
        case "majority": return try cut(n / 2 + 1 < n ? n / 2 + 1 : n - 1)
        case "random-halves": return try cut(n / 2)
        case "majorities-ring":
            let majority = n / 2 + 1
            var grudge: Grudge = [:], groups: [[String]] = []
            for (i, node) in shuffled.enumerated() {
                // The window of `majority` ring positions around i (one more on the right when even).
                let left = (majority - 1) / 2, right = majority - 1 - left
                var sees: [String] = [node]
                for d in stride(from: 1, through: left, by: 1) { sees.append(shuffled[(i - d + n) % n]) }
                for d in stride(from: 1, through: right, by: 1) { sees.append(shuffled[(i + d) % n]) }
                grudge[node] = Set(nodes.filter { !sees.contains($0) })
                groups.append(sees)
            }
            return (grudge, groups.sorted { nodeOrder($0[0], $1[0]) })
        default:
            throw FaultError(.usage, "unknown partition preset '\(name)' (presets: \(presets.joined(separator: ", ")); or give groups of nodes)")
        }
    }

    /// node2 before node10.
    static func nodeOrder(_ a: String, _ b: String) -> Bool {
        a.count != b.count ? a.count < b.count : a < b
    }
}

/// One iptables rule, without its tag and without -A/-D: the chain and the match, ending in a target.
public struct FirewallRule: Sendable, Equatable, Hashable {
    public var chain: String
    public var spec: [String]
    public init(chain: String, spec: [String]) { self.chain = chain; self.spec = spec }
}

/// What one fault puts into one node's namespace.
public struct NamespaceRules: Sendable, Equatable {
    public var firewall: [FirewallRule] = []
    /// tc commands (after `tc`) that set up the root qdisc of `device`; healing deletes that root qdisc.
    public var qdisc: [[String]] = []
    public var device = "eth0"
    public init(firewall: [FirewallRule] = [], qdisc: [[String]] = [], device: String = "eth0") {
        self.firewall = firewall; self.qdisc = qdisc; self.device = device
    }
    public var isEmpty: Bool { firewall.isEmpty && qdisc.isEmpty }
}

/// Netem effects (delay, duplicate, corrupt, reorder): need the kernel's sch_netem.
public enum NetemEffect: Sendable, Equatable {
    case delay(ms: Double, jitter: Double)
    case duplicate(percent: Double)
    case corrupt(percent: Double)
    case reorder(percent: Double)

    public var name: String {
        switch self {
        case .delay: "delay"
        case .duplicate: "duplicate"
        case .corrupt: "corrupt"
        case .reorder: "reorder"
        }
    }

    /// netem's arguments; reorder needs a delay to reorder against.
    var arguments: [String] {
        switch self {
        case .delay(let ms, let jitter): ["delay", "\(FaultRules.number(ms))ms"] + (jitter > 0 ? ["\(FaultRules.number(jitter))ms"] : [])
        case .duplicate(let p): ["duplicate", "\(FaultRules.number(p))%"]
        case .corrupt(let p): ["corrupt", "\(FaultRules.number(p))%"]
        case .reorder(let p): ["delay", "10ms", "reorder", "\(FaultRules.number(100 - p))%"]
        }
    }
}

public enum FaultRules {
    /// The iptables comment that marks every rule of fault `id` of `cluster`.
    public static func tag(cluster: String, id: Int) -> String { "ccm-lua:\(cluster):\(id)" }

    /// Each node drops what arrives from the nodes it holds a grudge against. Dropping on input
    /// at both ends cuts both directions, replies included.
    public static func partition(_ grudge: Grudge, addresses: [String: String]) -> [String: NamespaceRules] {
        var rules: [String: NamespaceRules] = [:]
        for (node, peers) in grudge {
            let firewall = peers.sorted(by: PartitionShape.nodeOrder).compactMap { peer in
                addresses[peer].map { FirewallRule(chain: "INPUT", spec: ["-s", $0, "-j", "DROP"]) }
            }
            if !firewall.isEmpty { rules[node] = NamespaceRules(firewall: firewall) }
        }
        return rules
    }

    /// `from` cannot reach `to`; `to` still reaches `from`. On `to`'s input, packets from `from`
    /// are dropped when they belong to a connection `from` opened (conntrack's original
    /// direction): new ones and ones open before the block. Replies to connections `to` opens
    /// travel the reply direction and pass.
    public static func block(from: String, to: String, addresses: [String: String]) -> [String: NamespaceRules] {
        guard let source = addresses[from] else { return [:] }
        return [to: NamespaceRules(firewall: [FirewallRule(chain: "INPUT", spec: [
            "-s", source, "-m", "conntrack", "--ctdir", "ORIGINAL", "-j", "DROP",
        ])])]
    }

    /// Drops `percent` of what `node` sends (to `to`'s addresses, or everything), with the
    /// statistic match: needs no netem.
    public static func loss(node: String, percent: Double, to: [String]?, addresses: [String: String]) -> [String: NamespaceRules] {
        let statistic = ["-m", "statistic", "--mode", "random", "--probability", probability(percent), "-j", "DROP"]
        let firewall: [FirewallRule]
        if let to {
            firewall = to.compactMap { addresses[$0] }.map { FirewallRule(chain: "OUTPUT", spec: ["-d", $0] + statistic) }
        } else {
            firewall = [FirewallRule(chain: "OUTPUT", spec: ["-o", "eth0"] + statistic)]
        }
        return [node: NamespaceRules(firewall: firewall)]
    }

    /// Limits what `node` sends to `kbit` kbit/s with a token bucket (tbf), towards `to`'s
    /// addresses or everything.
    public static func rate(node: String, kbit: Double, to: [String]?, addresses: [String: String]) -> [String: NamespaceRules] {
        let rate = "\(number(kbit))kbit"
        // A burst of at least one MTU-sized packet, or the bucket never lets one through.
        let burst = "\(max(1600, Int(kbit * 1000 / 8 / 100)))"
        return [node: shaping(["tbf", "rate", rate, "burst", burst, "latency", "400ms"], to: to, addresses: addresses)]
    }

    /// A netem qdisc on `node`'s output, towards `to`'s addresses or everything.
    public static func netem(node: String, _ effect: NetemEffect, to: [String]? = nil, addresses: [String: String] = [:]) -> [String: NamespaceRules] {
        [node: shaping(["netem"] + effect.arguments, to: to, addresses: addresses)]
    }

    /// `qdisc` as the root of eth0, or, towards given nodes only, in the extra band of a prio
    /// qdisc with u32 filters steering those addresses into it; other traffic keeps the default
    /// bands (prio's priomap, extended to 4 bands).
    static func shaping(_ qdisc: [String], to: [String]?, addresses: [String: String]) -> NamespaceRules {
        guard let to else { return NamespaceRules(qdisc: [["qdisc", "add", "dev", "eth0", "root", "handle", "1:"] + qdisc]) }
        var commands: [[String]] = [
            ["qdisc", "add", "dev", "eth0", "root", "handle", "1:", "prio", "bands", "4",
             "priomap", "1", "2", "2", "2", "1", "2", "0", "0", "1", "1", "1", "1", "1", "1", "1", "1"],
            ["qdisc", "add", "dev", "eth0", "parent", "1:4", "handle", "40:"] + qdisc,
        ]
        for address in to.compactMap({ addresses[$0] }) {
            commands.append(["filter", "add", "dev", "eth0", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
                             "match", "ip", "dst", "\(address)/32", "flowid", "1:4"])
        }
        return NamespaceRules(qdisc: commands)
    }

    /// Shell lines that add `rules`, tagged, stopping at the first failure.
    public static func addScript(_ rules: NamespaceRules, tag: String) -> String {
        var lines = ["set -e"]
        lines += rules.firewall.map { command("iptables", ["-w", "-A", $0.chain] + $0.spec + ["-m", "comment", "--comment", tag]) }
        lines += rules.qdisc.map { command("tc", $0) }
        return lines.joined(separator: "\n")
    }

    /// Shell lines that remove exactly `rules` (each by its full, tagged spec), and the root qdisc
    /// the fault set up. Missing ones are no error: a restarted node has a fresh namespace.
    public static func removeScript(_ rules: NamespaceRules, tag: String) -> String {
        var lines = rules.firewall.map {
            command("iptables", ["-w", "-D", $0.chain] + $0.spec + ["-m", "comment", "--comment", tag]) + " 2>/dev/null || true"
        }
        if !rules.qdisc.isEmpty { lines.append(command("tc", ["qdisc", "del", "dev", rules.device, "root"]) + " 2>/dev/null || true") }
        lines.append("true")
        return lines.joined(separator: "\n")
    }

    static func command(_ program: String, _ arguments: [String]) -> String {
        ([program] + arguments).map(quote).joined(separator: " ")
    }

    static func quote(_ word: String) -> String {
        word.allSatisfy { $0.isLetter || $0.isNumber || "-_./:%=,".contains($0) } ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func probability(_ percent: Double) -> String {
        let p = min(1, max(0, percent / 100))
        return String(format: "%.4f", p)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

import Foundation
