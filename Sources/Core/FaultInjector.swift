import Foundation
import Synchronization

/// A fault as Core applies it. Node names are the cluster's (node1, node2, ...).
public enum Fault: Sendable {
    case partition(grudge: Grudge, groups: [[String]])
    /// Packets from `from` never reach `to`; `to` still reaches `from`.
    case block(from: String, to: String)
    case loss(node: String, percent: Double, to: [String]?)
    case rate(node: String, kbit: Double, to: [String]?)
    case netem(node: String, NetemEffect, to: [String]?)
    /// A fault that is an engine action and its undo: pause/resume, kill/start.
    case action(name: String, node: String, start: @Sendable () async throws -> Void, heal: @Sendable () async throws -> Void)

    public var name: String {
        switch self {
        case .partition: "partition"
        case .block: "block"
        case .loss: "loss"
        case .rate: "rate"
        case .netem(_, let effect, _): effect.name
        case .action(let name, _, _, _): name
        }
    }

    /// The groups a script sees on the handle.
    public var groups: [[String]] {
        switch self {
        case .partition(_, let groups): groups
        case .block(let from, let to): [[from], [to]]
        case .loss(let node, _, let to), .rate(let node, _, let to), .netem(let node, _, let to): [[node]] + (to.map { [$0] } ?? [])
        case .action(_, let node, _, _): [[node]]
        }
    }

    /// Every node whose namespace or address the fault's rules involve.
    var nodes: Set<String> {
        switch self {
        case .partition(let grudge, _): Set(grudge.keys).union(grudge.values.flatMap { $0 })
        case .block(let from, let to): [from, to]
        case .loss(let node, _, let to), .rate(let node, _, let to), .netem(let node, _, let to): Set([node] + (to ?? []))
        case .action(_, let node, _, _): [node]
        }
    }

    var isNetwork: Bool { if case .action = self { false } else { true } }

    func rules(addresses: [String: String]) -> [String: NamespaceRules] {
        switch self {
        case .partition(let grudge, _): FaultRules.partition(grudge, addresses: addresses)
        case .block(let from, let to): FaultRules.block(from: from, to: to, addresses: addresses)
        case .loss(let node, let percent, let to): FaultRules.loss(node: node, percent: percent, to: to, addresses: addresses)
        case .rate(let node, let kbit, let to): FaultRules.rate(node: node, kbit: kbit, to: to, addresses: addresses)
        case .netem(let node, let effect, let to): FaultRules.netem(node: node, effect, to: to, addresses: addresses)
        case .action: [:]
        }
    }
}

/// The faults of one cluster in this process: applies them into the nodes' network namespaces
/// (or as engine actions), heals them exactly, re-applies them when a node starts again (a new
/// container process has a new namespace), and records each in the run's `History`.
public actor FaultInjector {
    public nonisolated let cluster: String
    let network: String
    let runtime: any ContainerRuntime
    let history: History
    private var namespace: NetworkNamespace?

    private struct Active {
        var fault: Fault
        /// What was put into each node's namespace, to remove exactly that.
        var rules: [String: NamespaceRules]
        var historyID: Int?
        var timer: Task<Void, Never>?
    }
    private var active: [Int: Active] = [:]

    public init(cluster: String, network: String, runtime: any ContainerRuntime, history: History = .run) {
        self.cluster = cluster; self.network = network; self.runtime = runtime; self.history = history
    }

    private static let lastID = Mutex(0)
    /// Ids are taken before a fault is applied, so whoever heals at exit knows the id already.
    public nonisolated static func newID() -> Int { lastID.withLock { $0 += 1; return $0 } }

    public var activeIDs: [Int] { active.keys.sorted() }

    /// The mechanism in use (chosen on first use).
    public func mechanism() throws -> FaultMechanism { try namespaceRunner().mechanism }

    private func namespaceRunner() throws -> NetworkNamespace {
        if let namespace { return namespace }
        let made = try NetworkNamespace(runtime: runtime, cluster: cluster)
        namespace = made
        return made
    }

    /// Applies `fault` as `id`; heals it by itself after `duration` seconds when given. The work
    /// runs to its end even when the caller is cancelled (Ctrl-C): a half-applied fault would
    /// escape the heal at exit.
    public func apply(_ fault: Fault, id: Int, duration: Double? = nil) async throws {
        try await Task { try await self.applyNow(fault, id: id, duration: duration) }.value
    }

    private func applyNow(_ fault: Fault, id: Int, duration: Double?) async throws {
        guard active[id] == nil else { throw FaultError(.usage, "fault \(id) is applied already") }
        var inPlace = History.now()
        if case .action(_, _, let start, _) = fault {
            try await start()
            active[id] = Active(fault: fault, rules: [:])
        } else {
            let ns = try namespaceRunner()
            try await ns.checkHelperImage()
            let infos = try await containers(fault.nodes)
            if case .netem(let node, let effect, _) = fault {
                guard let info = infos[node], info.state == .running || info.state == .paused else {
                    throw FaultError(.runtime, "fault.\(effect.name): \(node) is not running", node: node)
                }
                if !(try await NetemSupport.available(in: ns, node: info)) { throw NetemSupport.unsupported(effect) }
            }
            let rules = fault.rules(addresses: addresses(infos))
            // Recorded before anything is added: a failure half-way is healed like the rest.
            active[id] = Active(fault: fault, rules: rules)
            let began = History.now()
            do {
                inPlace = try await run(rules, infos: infos, tag: tag(id), adding: true, fault: fault)
                if latency == nil { latency = Double(inPlace - began) / 1e9 }
            } catch {
                _ = try? await run(rules, infos: infos, tag: tag(id), adding: false)
                active[id] = nil
                throw error
            }
        }
        active[id]?.historyID = history.begin(at: inPlace, kind: "fault", name: fault.name, targets: fault.nodes.sorted(by: PartitionShape.nodeOrder),
                                              details: ["id": String(id), "cluster": cluster,
                                                        "groups": fault.groups.map { $0.joined(separator: ",") }.joined(separator: " | ")])
        if let duration {
            // A slow way in (a helper container on Podman takes about a second) starts the heal
            // early by what a change took last time, so the rules are gone when the time is up.
            let lead = min(latency ?? 0, duration / 2)
            active[id]?.timer = Task { [weak self] in
                try? await Task.sleep(for: .seconds(duration - lead))
                guard !Task.isCancelled else { return }
                try? await self?.heal(id)
            }
        }
    }

    /// Heals fault `id` (an unknown or healed one is no error; one being healed is waited for, so
    /// that nothing of it, such as a helper container, outlives this call). The work runs to its
    /// end when the caller is cancelled.
    public func heal(_ id: Int) async throws {
        if let running = healing[id] { try await running.value; return }
        guard let entry = active.removeValue(forKey: id) else { return }
        entry.timer?.cancel()
        let work = Task { try await self.remove(entry, id: id) }
        healing[id] = work
        defer { healing[id] = nil }
        try await work.value
    }

    /// Heals every active fault of the cluster, newest first; reports the first failure after trying all.
    public func healAll() async throws {
        var first: (any Error)?
        for id in Set(active.keys).union(healing.keys).sorted(by: >) {
            do { try await heal(id) } catch { if first == nil { first = error } }
        }
        if let first { throw first }
    }

    private var healing: [Int: Task<Void, any Error>] = [:]

    private func remove(_ entry: Active, id: Int) async throws {
        if case .action(_, _, _, let heal) = entry.fault {
            defer { if let h = entry.historyID { history.end(h) } }
            try await heal()
            return
        }
        let began = History.now()
        let infos = try await containers(Set(entry.rules.keys))
        do {
            let gone = try await run(entry.rules, infos: infos, tag: tag(id), adding: false)
            latency = Double(gone - began) / 1e9
            if let h = entry.historyID { history.end(h, at: gone) }
        } catch {
            if let h = entry.historyID { history.end(h) }
            throw error
        }
    }

    /// Seconds the last change of rules took to be in place (the mechanism's latency here).
    private var latency: Double?

    /// `node` runs in a new namespace: every active fault that involves it gets its rules again,
    /// with the addresses as they are now (on every node whose rules change).
    public func nodeStarted(_ node: String) async throws {
        for id in active.keys.sorted() {
            guard var entry = active[id], entry.fault.isNetwork, entry.fault.nodes.contains(node) else { continue }
            let infos = try await containers(entry.fault.nodes)
            let rules = entry.fault.rules(addresses: addresses(infos))
            for (name, new) in rules where name == node || entry.rules[name] != new {
                guard let info = infos[name], info.state == .running || info.state == .paused else { continue }
                let ns = try namespaceRunner()
                if let old = entry.rules[name] { _ = try await ns.run(FaultRules.removeScript(old, tag: tag(id)), in: info) }
                let outcome = try await ns.run(FaultRules.addScript(new, tag: tag(id)), in: info)
                guard outcome.code == 0 else { throw applyFailure(entry.fault, node: name, outcome) }
            }
            entry.rules = rules
            active[id] = entry
        }
    }

    private func tag(_ id: Int) -> String { FaultRules.tag(cluster: cluster, id: id) }

    /// The nodes' containers as they are now (a node whose container is gone is left out). One
    /// engine call for all of them; one each only when one is missing.
    private func containers(_ nodes: Set<String>) async throws -> [String: ContainerInfo] {
        let ordered = nodes.sorted()
        do {
            let infos = try await runtime.inspect(all: ordered.map { Cluster.containerName(cluster, $0) })
            if infos.count == ordered.count { return Dictionary(uniqueKeysWithValues: zip(ordered, infos)) }
        } catch let error as RuntimeError where error.kind == .containerNotFound {}
        return try await withThrowingTaskGroup(of: (String, ContainerInfo?).self) { group in
            for node in nodes {
                group.addTask {
                    do { return (node, try await self.runtime.inspect(Cluster.containerName(self.cluster, node))) }
                    catch let error as RuntimeError where error.kind == .containerNotFound { return (node, nil) }
                }
            }
            var infos: [String: ContainerInfo] = [:]
            for try await (node, info) in group { if let info { infos[node] = info } }
            return infos
        }
    }

    private func addresses(_ infos: [String: ContainerInfo]) -> [String: String] {
        infos.compactMapValues { $0.ipAddresses[network] }
    }

    /// Adds or removes `rules` in every node's namespace at once. Nodes that are not running have
    /// no namespace: their rules are added when they start.
    @discardableResult
    private func run(_ rules: [String: NamespaceRules], infos: [String: ContainerInfo], tag: String, adding: Bool,
                     fault: Fault? = nil) async throws -> UInt64 {
        let ns = try namespaceRunner()
        return try await withThrowingTaskGroup(of: UInt64.self) { group in
            for (node, nodeRules) in rules {
                guard let info = infos[node], info.state == .running || info.state == .paused else { continue }
                let script = adding ? FaultRules.addScript(nodeRules, tag: tag) : FaultRules.removeScript(nodeRules, tag: tag)
                group.addTask {
                    let outcome = try await ns.run(script, in: info)
                    guard outcome.code == 0 else {
                        if adding, let fault { throw self.applyFailure(fault, node: node, outcome) }
                        throw FaultError(.runtime, "could not \(adding ? "add" : "remove") fault rules in \(node) (\(ns.mechanism.rawValue)): \(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))", node: node)
                    }
                    return outcome.finished
                }
            }
            var last = History.now()
            var any = false
            for try await finished in group { last = any ? max(last, finished) : finished; any = true }
            return any ? last : History.now()
        }
    }

    nonisolated private func applyFailure(_ fault: Fault, node: String, _ outcome: NetworkNamespace.Outcome) -> FaultError {
        let said = outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
        var hint = ""
        if said.contains("Exclusivity flag on") || said.contains("File exists") {
            hint = "; \(node) has a rate or netem fault already (one per node): heal it first"
        }
        return FaultError(.runtime, "could not apply \(fault.name) in \(node): \(said)\(hint)", node: node)
    }
}
