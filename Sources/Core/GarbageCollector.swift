import Foundation

/// Finds and removes what ccm-lua processes left behind when they could not clean up (killed with
/// SIGKILL, machine crash): clusters not marked `keep` whose owner process is gone. Kept clusters
/// are never touched; neither is anything without our labels.
public struct GarbageCollector: Sendable {
    public let runtime: any ContainerRuntime
    public let store: StateStore

    public init(runtime: any ContainerRuntime, store: StateStore) { self.runtime = runtime; self.store = store }

    public struct Removed: Sendable, Equatable {
        public var cluster: String
        public var containers: Int
        public var ownerPID: Int32?
    }

    /// Removes orphaned clusters; returns what it removed, one entry per cluster.
    public func collect() async throws -> [Removed] {
        var byCluster: [String: (containers: [ContainerSummary], owner: Int32?)] = [:]
        for container in try await runtime.listContainers(labels: [Labels.cluster: ""]) {
            guard let cluster = container.labels[Labels.cluster] else { continue }
            byCluster[cluster, default: ([], nil)].containers.append(container)
            if let pid = container.labels[Labels.ownerPID].flatMap(Int32.init) { byCluster[cluster]?.owner = pid }
        }
        // Clusters whose containers are gone but whose state folder remains.
        for name in store.list() where byCluster[name] == nil {
            if let record = try? store.load(name), record.engine == runtime.engine { byCluster[name] = ([], record.ownerPID) }
        }

        var removed: [Removed] = []
        for (name, found) in byCluster.sorted(by: { $0.key < $1.key }) {
            let record = try? store.load(name)
            if record?.keep == true { continue }
            let owner = record?.ownerPID ?? found.owner
            if let owner, Self.isAlive(owner) { continue }
            try await removeCluster(name, containers: found.containers)
            removed.append(Removed(cluster: name, containers: found.containers.count, ownerPID: owner))
        }
        return removed
    }

    private func removeCluster(_ name: String, containers: [ContainerSummary]) async throws {
        for c in containers { try await runtime.remove(c.id) }
        for network in try await runtime.listNetworks(labels: [Labels.cluster: name]) { try await runtime.removeNetwork(network) }
        if store.exists(name), (try? store.load(name))?.engine ?? runtime.engine == runtime.engine {
            try? store.delete(name)
        }
    }

    /// Whether a ccm-lua process with this pid runs (a reused pid of another program does not count).
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return true }
        let text = String(decoding: cmdline, as: UTF8.self)
        return text.contains("ccm-lua") || text.contains("xctest") || text.contains("PackageTests")
    }
}
