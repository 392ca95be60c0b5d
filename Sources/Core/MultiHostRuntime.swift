import Foundation
import Synchronization

/// The engines of a cluster that spans several hosts, as one `ContainerRuntime`: each container
/// call goes to the engine its container lives on, so everything that drives a cluster (exec,
/// logs, waits, start/stop, faults, removal) works per node on its own engine unchanged. A
/// cluster on one engine never goes through this type.
///
/// Where a container lives: a node's container on its placed host (`ccm-lua.node` label); a
/// container joining another's namespace (fault helpers) on that one's host; anything else on the
/// swarm manager. The cluster network is an attachable overlay made through the manager (with
/// one host, an ordinary network of that engine).
public final class MultiHostRuntime: ContainerRuntime {
    public let hosts: [EngineHost]
    /// The host whose engine manages the swarm: overlay networks are made and removed there.
    public let manager: String
    let engines: [String: any ContainerRuntime]
    /// Container name or id -> host name.
    private let placed = Mutex<[String: String]>([:])
    /// Node name -> host name, for containers not made yet.
    private let nodeHosts = Mutex<[String: String]>([:])

    public init(hosts: [(EngineHost, any ContainerRuntime)], manager: String) {
        self.hosts = hosts.map(\.0)
        self.manager = manager
        self.engines = Dictionary(uniqueKeysWithValues: hosts.map { ($0.0.name, $0.1) })
    }

    public var engine: Engine { .docker }
    public var location: EngineLocation { managerEngine.location }
    var managerEngine: any ContainerRuntime { engines[manager]! }

    /// Says where a node's container goes (before it is made) and where it is (once it exists).
    public func place(node: String, container: String, on host: String) {
        nodeHosts.withLock { $0[node] = host }
        placed.withLock { $0[container] = host }
    }

    /// Whether a host's engine is on another machine. Then every node's folders are volumes on
    /// its own engine (`NodeFolders`): a bind mount there would make this machine's path on that
    /// machine, and leave it behind.
    public var spansRemoteEngines: Bool { engines.values.contains { $0.location.isRemote } }

    /// The host of the node a helper container is named after (`<node container>-chown-<run>`:
    /// it works on that node's folders, which are on that node's engine).
    private func helpedHost(_ name: String) -> String? {
        placed.withLock { placed in
            placed.keys.filter { name.hasPrefix($0 + "-") }.max { $0.count < $1.count }.flatMap { placed[$0] }
        }
    }

    public func host(of container: ContainerRef) -> String {
        placed.withLock { $0[container] } ?? manager
    }

    /// The client of the engine `container` lives on (for what needs the client itself, such as
    /// an exec attached to the terminal).
    public func client(of container: ContainerRef) -> any ContainerRuntime { engines[host(of: container)] ?? managerEngine }

    private func on(_ container: ContainerRef) -> any ContainerRuntime { client(of: container) }

    private var all: [any ContainerRuntime] { hosts.compactMap { engines[$0.name] } }

    /// The same call on every host at once; results in host order.
    private func everywhere<T: Sendable>(_ body: @escaping @Sendable (String, any ContainerRuntime) async throws -> T) async throws -> [T] {
        let named = hosts.compactMap { h in engines[h.name].map { (h.name, $0) } }
        return try await withThrowingTaskGroup(of: (Int, T).self) { group in
            for (i, (name, engine)) in named.enumerated() { group.addTask { (i, try await body(name, engine)) } }
            var results = [T?](repeating: nil, count: named.count)
            for try await (i, value) in group { results[i] = value }
            return results.compactMap { $0 }
        }
    }

    /// A host's error names the host, so "image not found" says where.
    private func naming<T>(_ host: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch var error as RuntimeError {
            if let address = hosts.first(where: { $0.name == host })?.address {
                error.summary = "host \(host) (\(address)): \(error.summary)"
            }
            throw error
        }
    }

    public func version() async throws -> EngineVersion { try await managerEngine.version() }

    // MARK: Images: a cluster's image must be on every host.

    public func imageExists(_ reference: String) async throws -> Bool {
        try await everywhere { _, e in try await e.imageExists(reference) }.allSatisfy { $0 }
    }

    public func inspectImage(_ reference: String) async throws -> ImageInfo {
        try await everywhere { name, e in try await self.naming(name) { try await e.inspectImage(reference) } }[0]
    }

    /// "on host h2 (tcp://...)": the hosts that lack an image, for messages.
    func whereMissing(_ reference: String) async -> String {
        let present = (try? await everywhere { _, e in (try? await e.imageExists(reference)) ?? false }) ?? []
        let missing = zip(hosts, present).filter { !$0.1 }.map { "\($0.0.name) (\($0.0.address))" }
        return missing.isEmpty ? "on every host" : "on host \(missing.joined(separator: ", "))"
    }

    public func pullImage(_ reference: String) async throws {
        _ = try await everywhere { name, e in try await self.naming(name) { try await e.pullImage(reference) } }
    }

    public func pullImage(_ reference: String, progress: (@Sendable (String) -> Void)?) async throws {
        _ = try await everywhere { name, e in try await self.naming(name) { try await e.pullImage(reference, progress: progress) } }
    }

    public func buildImage(_ request: ImageBuild) async throws {
        _ = try await everywhere { name, e in try await self.naming(name) { try await e.buildImage(request) } }
    }

    public func listImages(labels: [String: String]) async throws -> [ImageInfo] { try await managerEngine.listImages(labels: labels) }

    public func removeImage(_ reference: String) async throws {
        _ = try await everywhere { _, e in try await e.removeImage(reference) }
    }

    // MARK: Networks: one overlay, through the manager.

    public func createNetwork(_ spec: NetworkSpec) async throws {
        guard hosts.count > 1 else { return try await managerEngine.createNetwork(spec) }
        var overlay = spec
        overlay.driver = "overlay"
        overlay.attachable = true
        try await naming(manager) { try await managerEngine.createNetwork(overlay) }
    }

    public func connect(network: String, container: ContainerRef, aliases: [String]) async throws {
        try await on(container).connect(network: network, container: container, aliases: aliases)
    }

    public func disconnect(network: String, container: ContainerRef) async throws {
        try await on(container).disconnect(network: network, container: container)
    }

    /// Returns once no host lists it: each keeps listing a removed overlay for a moment while
    /// its containers' attachments go, and whoever looks then sees a leftover.
    public func removeNetwork(_ name: String) async throws {
        try await managerEngine.removeNetwork(name)
        let deadline = ContinuousClock.now + .seconds(Defaults.overlayRemovalWait)
        while case let listing = try await everywhere({ host, e in (host, try await e.listNetworks(labels: [:]).contains(name)) }),
              let still = listing.first(where: \.1)?.0 {
            guard ContinuousClock.now < deadline else {
                throw RuntimeError(.commandFailed, engine: .docker,
                                   summary: "host \(still): network \(name) is still listed \(formatSeconds(Defaults.overlayRemovalWait)) after it was removed",
                                   hint: "Remove it with `docker network rm \(name)` on that host.")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The manager's: a worker shows an overlay only while one of its containers uses it.
    public func listNetworks(labels: [String: String]) async throws -> [String] { try await managerEngine.listNetworks(labels: labels) }

    // MARK: Volumes (each host has its own)

    /// A node's volume on the node's host; any other on every host.
    public func createVolume(_ spec: VolumeSpec) async throws {
        if let node = spec.labels[Labels.node], let host = nodeHosts.withLock({ $0[node] }), let engine = engines[host] {
            return try await naming(host) { try await engine.createVolume(spec) }
        }
        _ = try await everywhere { _, e in try await e.createVolume(spec) }
    }
    public func removeVolume(_ name: String) async throws { _ = try await everywhere { _, e in try await e.removeVolume(name) } }
    public func listVolumes(labels: [String: String]) async throws -> [String] {
        Array(Set(try await everywhere { _, e in try await e.listVolumes(labels: labels) }.joined())).sorted()
    }

    // MARK: Containers

    public func createContainer(_ spec: ContainerSpec) async throws -> String {
        let host: String
        if let node = spec.labels[Labels.node], let placedHost = nodeHosts.withLock({ $0[node] }) {
            host = placedHost
        } else if let joined = spec.network, joined.hasPrefix("container:") {
            host = self.host(of: String(joined.dropFirst("container:".count)))
        } else if let helped = helpedHost(spec.name) {
            host = helped
        } else {
            host = manager
        }
        let id = try await naming(host) { try await engines[host]!.createContainer(spec) }
        placed.withLock { $0[spec.name] = host; $0[id] = host }
        return id
    }

    public func start(_ container: ContainerRef) async throws { try await on(container).start(container) }
    public func stop(_ container: ContainerRef, timeout: Double) async throws { try await on(container).stop(container, timeout: timeout) }
    public func kill(_ container: ContainerRef, signal: String) async throws { try await on(container).kill(container, signal: signal) }
    public func pause(_ container: ContainerRef) async throws { try await on(container).pause(container) }
    public func unpause(_ container: ContainerRef) async throws { try await on(container).unpause(container) }
    public func restart(_ container: ContainerRef, timeout: Double) async throws { try await on(container).restart(container, timeout: timeout) }
    public func remove(_ container: ContainerRef) async throws { try await on(container).remove(container) }

    /// One call per host, all hosts at once.
    public func remove(all containers: [ContainerRef]) async throws {
        let byHost = Dictionary(grouping: containers, by: host(of:))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (host, refs) in byHost { group.addTask { try await self.engines[host]!.remove(all: refs) } }
            try await group.waitForAll()
        }
    }

    /// In the order given; consecutive containers on one host in one call.
    public func start(inOrder containers: [ContainerRef]) async throws {
        var i = 0
        while i < containers.count {
            let host = host(of: containers[i])
            var run = [containers[i]]
            while i + run.count < containers.count, self.host(of: containers[i + run.count]) == host { run.append(containers[i + run.count]) }
            try await engines[host]!.start(inOrder: run)
            i += run.count
        }
    }

    public func inspect(_ container: ContainerRef) async throws -> ContainerInfo {
        let info = try await on(container).inspect(container)
        remember(info.id, sameHostAs: container)
        return info
    }

    /// One call per host, all hosts at once; results in the order asked.
    public func inspect(all containers: [ContainerRef]) async throws -> [ContainerInfo] {
        let byHost = Dictionary(grouping: containers.indices, by: { host(of: containers[$0]) })
        let found = try await withThrowingTaskGroup(of: [(Int, ContainerInfo)].self) { group in
            for (host, indexes) in byHost {
                group.addTask { Array(zip(indexes, try await self.engines[host]!.inspect(all: indexes.map { containers[$0] }))) }
            }
            var infos = [ContainerInfo?](repeating: nil, count: containers.count)
            for try await pairs in group { for (i, info) in pairs { infos[i] = info } }
            return infos.compactMap { $0 }
        }
        for (ref, info) in zip(containers, found) { remember(info.id, sameHostAs: ref) }
        return found
    }

    /// Every host's, at once; each container is remembered where it was found, so a leftover of
    /// another process is removed on its own host.
    public func listContainers(labels: [String: String]) async throws -> [ContainerSummary] {
        let perHost = try await everywhere { name, e in (name, try await e.listContainers(labels: labels)) }
        var result: [ContainerSummary] = []
        placed.withLock { placed in
            for (host, list) in perHost {
                for c in list { placed[c.name] = host; placed[c.id] = host }
                result += list
            }
        }
        return result
    }

    private func remember(_ id: String, sameHostAs container: ContainerRef) {
        placed.withLock { placed in if placed[id] == nil, let host = placed[container] { placed[id] = host } }
    }

    // MARK: Processes, files, logs

    public func exec(_ container: ContainerRef, _ request: ExecRequest) async throws -> ExecResult {
        try await on(container).exec(container, request)
    }

    public func copyIn(_ container: ContainerRef, content: [UInt8], to path: String) async throws {
        try await on(container).copyIn(container, content: content, to: path)
    }

    public func copyOut(_ container: ContainerRef, from path: String) async throws -> [UInt8] {
        try await on(container).copyOut(container, from: path)
    }

    public func logs(_ container: ContainerRef, since: String?, follow: Bool) -> AsyncThrowingStream<LogLine, any Error> {
        on(container).logs(container, since: since, follow: follow)
    }

    public func swarm() async throws -> SwarmMembership { try await managerEngine.swarm() }
}

extension MultiHostRuntime {
    /// The runtime for a cluster across `hosts`, after checking that they are members of one swarm
    /// with a manager among them (the overlay network is made there).
    public static func connect(_ hosts: [EngineHost],
                               engine: (EngineHost) -> any ContainerRuntime = { $0.runtime() }) async throws -> MultiHostRuntime {
        let pairs = hosts.map { ($0, engine($0)) }
        // One host (a remote engine on its own) shares its network with no one: no swarm needed.
        let manager = pairs.count == 1 ? pairs[0].0.name : try await SwarmCheck.manager(of: pairs)
        return MultiHostRuntime(hosts: pairs, manager: manager)
    }
}

/// Whether a set of hosts can carry one cluster: every one answers and belongs to one Docker
/// Swarm, and one of them is a manager. Errors say which host is not and how to join it.
public enum SwarmCheck {
    /// The name of the first host that manages the swarm all hosts are in.
    public static func manager(of hosts: [(EngineHost, any ContainerRuntime)]) async throws -> String {
        let memberships = try await withThrowingTaskGroup(of: (Int, SwarmMembership).self) { group in
            for (i, (host, engine)) in hosts.enumerated() {
                group.addTask {
                    do { return (i, try await engine.swarm()) } catch var error as RuntimeError {
                        error.summary = "host \(host.name) (\(host.address)) does not answer: \(error.summary)"
                        throw error
                    }
                }
            }
            var result = [SwarmMembership?](repeating: nil, count: hosts.count)
            for try await (i, m) in group { result[i] = m }
            return result.map { $0! }
        }
        guard let m = memberships.indices.first(where: { memberships[$0].isActive && memberships[$0].isManager }) else {
            let first = hosts[0].0
            throw ClusterError(.usage, "none of the hosts (\(hosts.map(\.0.name).joined(separator: ", "))) is a Docker Swarm manager; nodes on several hosts share an overlay network, which a manager makes. Make one the manager with `docker \(first.dockerFlag) swarm init --advertise-addr ADDRESS` (an address the other hosts reach), then join the others as `docker swarm init` says")
        }
        let manager = hosts[m].0
        let managerID = memberships[m].nodeID
        let joinAt = memberships[m].managers.first { $0.id == managerID }?.address ?? "\(memberships[m].nodeAddress):2377"
        for (i, (host, _)) in hosts.enumerated() where !memberships[i].managers.contains(where: { $0.id == managerID }) {
            let why = memberships[i].isActive ? "is in another swarm" : "is not in a swarm (Swarm state: \(memberships[i].state))"
            let leave = memberships[i].isActive ? "`docker \(host.dockerFlag) swarm leave`, then " : ""
            throw ClusterError(.usage, "host \(host.name) (\(host.address)) \(why), so its nodes cannot share a network with \(manager.name)'s; join it to \(manager.name)'s swarm: \(leave)`docker \(host.dockerFlag) swarm join --token $(docker \(manager.dockerFlag) swarm join-token -q worker) \(joinAt)`")
        }
        return manager.name
    }
}
