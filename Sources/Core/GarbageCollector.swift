import Foundation

/// Finds and removes what ccm-lua processes left behind when they could not clean up (killed with
/// SIGKILL, machine crash): clusters not marked `keep` whose owner process is gone. Kept clusters
/// are never touched; neither is anything without our labels.
///
/// The engine is shared by every state directory on the machine, so a cluster is judged by its
/// record when this state directory has one, and otherwise by its labels: `ccm-lua.keep=false`
/// and a dead owner. Resources with no record here and no keep label (made by an older ccm-lua, or
/// by tests straight through the runtime) are left alone: they may be a kept cluster of another
/// state directory, and `ccm-lua rm NAME` removes them on request.
///
/// A pid is only meaningful where it was recorded: an owner recorded by another machine or pid
/// namespace (`Labels.ownerHost`) is never judged, so a shared engine's clusters of other hosts stay.
public struct GarbageCollector: Sendable {
    public let runtime: any ContainerRuntime
    public let store: StateStore

    /// How long to wait for containers another process is removing.
    public var removalWait: Double = Defaults.gcRemovalWait

    /// The client for each host of a cluster that spans several (tests substitute their own).
    public var hostRuntime: @Sendable (EngineHost) -> any ContainerRuntime = { $0.runtime() }
    public init(runtime: any ContainerRuntime, store: StateStore) { self.runtime = runtime; self.store = store }

    public struct Removed: Sendable, Equatable {
        public var cluster: String
        public var containers: Int
        public var ownerPID: Int32?
        public var networks: Int = 0
        /// Whether its folder in this state directory was removed too.
        public var state: Bool = false
    }

    /// Removes orphaned clusters; returns what it removed, one entry per cluster.
    public func collect() async throws -> [Removed] {
        var found: [String: Found] = [:]
        for container in try await runtime.listContainers(labels: [Labels.cluster: ""]) {
            guard let cluster = container.labels[Labels.cluster] else { continue }
            found[cluster, default: Found()].containers.append(container)
        }
        // Clusters whose containers are gone but whose state folder remains.
        for name in store.list() where found[name] == nil {
            if let record = try? store.load(name), record.engine == runtime.engine { found[name] = Found() }
        }

        var removed: [Removed] = []
        for (name, resources) in found.sorted(by: { $0.key < $1.key }) {
            let record = (try? store.load(name)).flatMap { $0.engine == runtime.engine ? $0 : nil }
            guard let owner = Self.orphanOwner(record: record, containers: resources.containers) else { continue }
            removed.append(try await removeCluster(name, containers: resources.containers, owner: owner))
        }
        return removed
    }

    private struct Found { var containers: [ContainerSummary] = [] }

    /// The dead owner's pid (0 when unknown) when the cluster is garbage; nil when it must stay.
    static func orphanOwner(record: ClusterRecord?, containers: [ContainerSummary]) -> Int32? {
        let labelled = { (key: String) in containers.lazy.compactMap { $0.labels[key] }.first }
        if let record {
            if record.keep { return nil }
            if let host = record.ownerHost, host != Labels.hostIdentity { return nil }
            return isAlive(record.ownerPID) ? nil : record.ownerPID
        }
        guard labelled(Labels.keep) == "false", labelled(Labels.ownerHost) == Labels.hostIdentity else { return nil }
        let owner = labelled(Labels.ownerPID).flatMap(Int32.init) ?? 0
        return isAlive(owner) ? nil : owner
    }

    private func removeCluster(_ name: String, containers: [ContainerSummary], owner: Int32) async throws -> Removed {
        do {
            return try await removeOnce(name, containers: containers, owner: owner)
        } catch let error as RuntimeError where error.kind == .removalInProgress {
            // Another process (a script's own cleanup after Ctrl-C, another gc) is removing the
            // containers: once they are gone, the network and state folder are still ours to remove.
            try await waitUntilGone(containers.map(\.id), cluster: name, cause: error)
            return try await removeOnce(name, containers: containers, owner: owner)
        }
    }

    /// Waits, at most `removalWait` seconds, until none of `ids` is listed any more.
    private func waitUntilGone(_ ids: [String], cluster: String, cause: RuntimeError) async throws {
        let deadline = ContinuousClock.now + .seconds(removalWait)
        let wanted = Set(ids)
        while try await runtime.listContainers(labels: [Labels.cluster: cluster]).contains(where: { wanted.contains($0.id) }) {
            guard ContinuousClock.now < deadline else {
                throw ClusterError(.state, "cluster '\(cluster)': its containers were being removed by another process and are still there after \(formatSeconds(removalWait)); run `ccm-lua gc` again (\(cause.summary))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func removeOnce(_ name: String, containers: [ContainerSummary], owner: Int32) async throws -> Removed {
        let networks = try await runtime.listNetworks(labels: [Labels.cluster: name])
        var state = false
        if let record = try? store.load(name), record.engine == runtime.engine {
            // Recorded here: removed the way a script removes it (also files a container wrote as
            // another user).
            // A cluster across hosts is removed from every one of them.
            let runtime = try Cluster.runtime(of: record, single: { _ in self.runtime }, host: hostRuntime)
            try await Cluster(record: record, runtime: runtime, store: store).remove()
            state = !store.exists(name)
        } else {
            // Another state directory's, or its record is gone: by label only.
            try await runtime.remove(all: containers.map(\.id))
            for network in networks { try await runtime.removeNetwork(network) }
            // A remote engine's node folders are volumes (NodeFolders).
            for volume in try await runtime.listVolumes(labels: [Labels.cluster: name]) { try await runtime.removeVolume(volume) }
        }
        return Removed(cluster: name, containers: containers.count, ownerPID: owner == 0 ? nil : owner,
                       networks: networks.count, state: state)
    }

    /// Whether a ccm-lua process with this pid runs (a reused pid of another program does not count).
    /// The pid is alive and its program is ccm-lua (or a program built from this package, such as
    /// its test runner, `ccm-luaPackageTests.xctest`): a reused pid of another program is no owner.
    /// Where /proc cannot tell (not Linux, another user's process), a live pid counts.
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") else { return true }
        return URL(fileURLWithPath: exe).lastPathComponent.hasPrefix("ccm-lua")
    }
}
