import Foundation

/// The clusters of one state directory, as the `ccm-lua` subcommands see them: listing, status,
/// removal and garbage collection across every cluster, each talked to on the engine its record
/// names. Listing reads only the records, so it works with no engine running.
public struct ClusterInventory: Sendable {
    public let store: StateStore
    /// The runtime for a recorded engine; tests substitute their own.
    public let runtimeFor: @Sendable (Engine) -> any ContainerRuntime

    public init(store: StateStore = .fromEnvironment(),
                runtimeFor: @escaping @Sendable (Engine) -> any ContainerRuntime = ClusterInventory.cliRuntime) {
        self.store = store
        self.runtimeFor = runtimeFor
    }

    /// The process's client for `engine`, from the one `EngineCache`.
    @Sendable public static func cliRuntime(_ engine: Engine) -> any ContainerRuntime {
        EngineCache.shared.cached(engine)
    }

    /// One cluster folder: its record, or why it cannot be read.
    public struct Entry: Sendable {
        public var name: String
        public var record: ClusterRecord?
        public var problem: String?
    }

    public func entries() -> [Entry] {
        store.list().map { name in
            do { return Entry(name: name, record: try store.load(name)) } catch {
                return Entry(name: name, problem: "\(error)")
            }
        }
    }

    /// The record, or a `.notFound` error naming the clusters that do exist.
    public func record(_ name: String) throws -> ClusterRecord {
        guard store.exists(name) else {
            let known = store.list()
            let hint = known.isEmpty
                ? "there are no clusters in \(store.home.path) (CCM_LUA_HOME); create one with a script (cluster.create{..., keep = true})"
                : "clusters there: \(known.joined(separator: ", "))"
            throw ClusterError(.notFound, "no cluster named '\(name)' in \(store.home.path); \(hint)")
        }
        return try store.load(name)
    }

    /// The cluster, without starting log followers: a reader must not become a second writer of
    /// the node logs while the script that owns the cluster still follows them.
    public func open(_ name: String) throws -> Cluster {
        let record = try record(name)
        return Cluster(record: record, runtime: try Cluster.runtime(of: record, single: runtimeFor), store: store)
    }

    public func status(_ name: String) async throws -> (record: ClusterRecord, nodes: [NodeStatus]) {
        let cluster = try open(name)
        return (await cluster.snapshot, try await cluster.status())
    }
}

/// What `ccm-lua rm` removed for one name.
public struct Removal: Sendable, Equatable {
    public var cluster: String
    public var engine: Engine?
    public var containers: [String] = []
    public var networks: [String] = []
    /// The state folder, when there was one.
    public var state: String?
    public var isEmpty: Bool { containers.isEmpty && networks.isEmpty && state == nil }
}

extension ClusterInventory {
    /// Removes a cluster: containers, network and state folder. Idempotent. A name with no record
    /// here still has its labelled resources removed on every engine that answers, so leftovers of
    /// an older ccm-lua or of another state directory can be cleared by name.
    public func remove(_ name: String) async throws -> [Removal] {
        guard store.exists(name) else {
            var removals: [Removal] = []
            for engine in Engine.allCases {
                let runtime = runtimeFor(engine)
                guard (try? await runtime.version()) != nil else { continue }
                let report = try await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: runtime)
                let removal = Removal(cluster: name, engine: engine, containers: report.containers, networks: report.networks)
                if !removal.isEmpty { removals.append(removal) }
            }
            return removals
        }
        let cluster = try open(name)
        let mine = [Labels.cluster: name]
        let containers = try await cluster.runtime.listContainers(labels: mine).map(\.name).sorted()
        let networks = try await cluster.runtime.listNetworks(labels: mine).sorted()
        try await cluster.remove()
        return [Removal(cluster: name, engine: cluster.runtime.engine, containers: containers, networks: networks,
                        state: store.clusterDirectory(name).path)]
    }

    /// Runs the garbage collector on every engine that answers; engines that do not are returned
    /// with the reason, so the caller can say what was not looked at.
    public func collectGarbage(engines: [Engine] = Engine.allCases) async -> [(engine: Engine, result: Result<[GarbageCollector.Removed], any Error>)] {
        var results: [(Engine, Result<[GarbageCollector.Removed], any Error>)] = []
        for engine in engines {
            let runtime = runtimeFor(engine)
            do {
                _ = try await runtime.version()
                results.append((engine, .success(try await GarbageCollector(runtime: runtime, store: store).collect())))
            } catch {
                results.append((engine, .failure(error)))
            }
        }
        return results
    }
}
