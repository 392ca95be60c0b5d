import Foundation

/// What `Cluster.create` needs: names, images and per-node plans, already decided by a profile.
public struct ClusterSpec: Sendable {
    public var name: String
    public var profile: String
    public var image: String
    public var startOrder: StartOrder
    public var keep: Bool
    public var nodes: [NodeSpec]
    /// What the script asked for, kept in the record so a later process can plan more nodes.
    public var request: ConfigValue?
    /// nil: `CCM_LUA_PULL`'s policy.
    public var pull: PullPolicy? = nil
    /// What the user sees of a pull (nothing when nil).
    public var pullOutput: PullOutput? = nil
    /// Engines the nodes are placed on (empty: the one runtime `create` is given). The runtime
    /// is then `MultiHostRuntime.connect(hosts)`.
    public var hosts: [EngineHost] = []
    /// Datacenter -> host name; nil: round-robin over `hosts` (`Placement`).
    public var placement: [String: String]? = nil
    public init(name: String, profile: String, image: String, startOrder: StartOrder = .parallel, keep: Bool = false,
                nodes: [NodeSpec], request: ConfigValue? = nil) {
        self.name = name; self.profile = profile; self.image = image; self.startOrder = startOrder
        self.keep = keep; self.nodes = nodes; self.request = request
    }
}

public struct NodeSpec: Sendable {
    public var name: String
    public var index: Int
    public var dc: String?
    public var plan: NodePlan
    public var config: ConfigValue
    /// The host it is placed on (set by `Cluster.create` and `addNode` from `Placement`).
    public var host: String? = nil
    public init(name: String, index: Int, dc: String? = nil, plan: NodePlan, config: ConfigValue = .map([])) {
        self.name = name; self.index = index; self.dc = dc; self.plan = plan; self.config = config
    }
}

public struct NodeStatus: Sendable, Equatable {
    public var name: String
    public var state: ContainerState?   // nil: the container is gone
    /// `state` in the words scripts use (`ContainerState.nodeState`), "removed" when it is gone.
    public var nodeState: String { state?.nodeState ?? "removed" }
    public var ip: String?
    public var image: String
}

/// A cluster: a network, node folders and containers, all labelled with its name, plus the record
/// in the state directory. One actor per cluster per process; every engine call goes through the
/// `ContainerRuntime` it was created or attached with.
public actor Cluster {
    public nonisolated let name: String
    public nonisolated let runtime: any ContainerRuntime
    public nonisolated let store: StateStore
    var record: ClusterRecord
    var logs: [String: NodeLog] = [:]
    /// Nodes created by this process and not started yet: their state is known without asking.
    var neverStarted: Set<String> = []
    /// Faults (partitions, loss, ...) applied to this cluster by this process.
    public nonisolated let faults: FaultInjector

    init(record: ClusterRecord, runtime: any ContainerRuntime, store: StateStore) {
        self.name = record.name
        self.record = record
        self.runtime = runtime
        self.store = store
        self.faults = FaultInjector(cluster: record.name, network: record.network, runtime: runtime)
        if let hosts = runtime as? MultiHostRuntime {
            for node in record.nodes { if let host = node.host { hosts.place(node: node.name, container: node.container, on: host) } }
        }
        var logs: [String: NodeLog] = [:]
        for node in record.nodes { logs[node.name] = Cluster.makeLog(node, cluster: record.name, runtime: runtime, store: store) }
        self.logs = logs
    }

    private static func makeLog(_ node: NodeRecord, cluster: String, runtime: any ContainerRuntime, store: StateStore) -> NodeLog {
        NodeLog(file: store.logFile(cluster, node.name), runtime: runtime, container: node.container, cluster: cluster)
    }

    // MARK: Names

    /// `[a-z0-9][a-z0-9-]*`, at most 40 characters: it becomes part of container and network names.
    public static func validate(name: String) throws {
        let ok = !name.isEmpty && name.count <= 40
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            && name.first != "-"
        guard ok else {
            throw ClusterError(.usage, "invalid cluster name '\(name)': use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters")
        }
    }

    public static func networkName(_ cluster: String) -> String { "ccm-lua-\(cluster)" }
    public static func containerName(_ cluster: String, _ node: String) -> String { "\(cluster)-\(node)" }

    // MARK: Create, attach, remove

    /// Creates the network, node folders and containers (not started). On any failure, whatever was
    /// created is removed again before the error is thrown.
    public static func create(_ spec: ClusterSpec, runtime: any ContainerRuntime, store: StateStore) async throws -> Cluster {
        // The operation begins now but is written once the images are known, so its details name
        // the exact image every node is made from, also a node that never starts.
        let began = History.now()
        var details = ["cluster": spec.name, "engine": runtime.engine.rawValue]
        if !spec.hosts.isEmpty { details["hosts"] = spec.hosts.map { "\($0.name)=\($0.address)" }.joined(separator: ",") }
        let images: [String: ImageInfo]
        var nodeHosts: [String: String] = [:]
        do {
            try validate(name: spec.name)
            guard !spec.nodes.isEmpty else { throw ClusterError(.usage, "a cluster needs at least one node (nodes = 0 given)") }
            nodeHosts = try Placement.place(spec.nodes.map { ($0.name, $0.dc) }, hosts: spec.hosts.map(\.name), byDatacenter: spec.placement)
            images = try await ensureImages(Set(spec.nodes.map(\.plan.image)), pull: spec.pull, runtime: runtime,
                                            output: spec.pullOutput)
        } catch {
            let id = History.run.begin(at: began, kind: "cluster", name: "create", targets: spec.nodes.map(\.name), details: details)
            History.run.end(id, result: "error", error: History.errorKind(error))
            throw error
        }
        let refs = Set(spec.nodes.map(\.plan.image))
        for node in spec.nodes {
            // One image for all (the usual case): named once; else per node ("image_id.node2").
            let suffix = refs.count == 1 ? "" : ".\(node.name)"
            for (key, value) in imageDetails(cluster: spec.name, ref: node.plan.image, images[node.plan.image]) where key != "cluster" {
                details[key + suffix] = value
            }
        }
        let id = History.run.begin(at: began, kind: "cluster", name: "create", targets: spec.nodes.map(\.name), details: details)
        do {
            let cluster = try await createUnrecorded(spec, nodeHosts: nodeHosts, images: images, runtime: runtime, store: store)
            History.run.end(id)
            return cluster
        } catch {
            History.run.end(id, result: "error", error: History.errorKind(error))
            throw error
        }
    }

    private static func createUnrecorded(_ spec: ClusterSpec, nodeHosts: [String: String], images: [String: ImageInfo],
                                         runtime: any ContainerRuntime, store: StateStore) async throws -> Cluster {
        // Before anything exists that a SIGKILL could leave.
        if spec.hosts.isEmpty { Reaper.shared.watch(runtime.engine) } else { Reaper.shared.watch(hosts: spec.hosts) }
        try store.claim(spec.name)
        var record = ClusterRecord(
            name: spec.name, engine: runtime.engine, profile: spec.profile, image: spec.image,
            network: networkName(spec.name), startOrder: spec.startOrder, keep: spec.keep,
            runID: Labels.runID, ownerPID: getpid(), createdAt: Date(), nodes: [], request: spec.request)
        if !spec.hosts.isEmpty {
            record.hosts = spec.hosts
            record.manager = (runtime as? MultiHostRuntime)?.manager
            record.placement = spec.placement
        }
        var spec = spec
        for i in spec.nodes.indices { spec.nodes[i].host = nodeHosts[spec.nodes[i].name] }
        let cluster = Cluster(record: record, runtime: runtime, store: store)
        do {
            try store.save(record)
            try await runtime.createNetwork(NetworkSpec(name: record.network, labels: Labels.forResource(cluster: spec.name, keep: spec.keep)))
            try await cluster.createNodes(spec.nodes, images: images)
        } catch {
            // In a task of its own: when the failure is a cancellation, the rollback must still run.
            await Task { try? await cluster.remove() }.value
            throw error
        }
        return cluster
    }

    /// Attaches to a cluster an earlier process created (and kept). Node logs resume where they
    /// stopped, catching up on what the nodes printed meanwhile.
    public static func attach(_ name: String, store: StateStore,
                              runtime: (Engine) throws -> any ContainerRuntime,
                              host: (EngineHost) -> any ContainerRuntime = { $0.runtime() }) async throws -> Cluster {
        let record = try store.load(name)
        let cluster = Cluster(record: record, runtime: try Cluster.runtime(of: record, single: runtime, host: host), store: store)
        // Another process (the script that created it, `ccm-lua logs -f`) may be copying a node's
        // log already; a second copier would write every line twice.
        for status in try await cluster.status() where status.state == .running || status.state == .paused {
            if let log = await cluster.logs[status.name], !log.isFollowedElsewhere() { log.follow() }
        }
        return cluster
    }

    /// The runtime for a recorded cluster: its hosts' engines when it spans several (no engine
    /// call: reading a record must work while an engine is down), else `single(record.engine)`.
    static func runtime(of record: ClusterRecord, single: (Engine) throws -> any ContainerRuntime,
                        host: (EngineHost) -> any ContainerRuntime = { $0.runtime() }) throws -> any ContainerRuntime {
        guard let hosts = record.hosts, !hosts.isEmpty else { return try single(record.engine) }
        return MultiHostRuntime(hosts: hosts.map { ($0, host($0)) }, manager: record.manager ?? hosts[0].name)
    }

    /// Removes containers (services too), the network and the state folder. Idempotent; removes only
    /// resources labelled with this cluster's name.
    ///
    /// The nodes' containers are removed at once, while the engine is asked what else carries the
    /// label (services, leftovers of an earlier process); those go as soon as the answer is in.
    public func remove() async throws {
        try await History.run.record(kind: "cluster", name: "remove", targets: nodeNames, details: ["cluster": name]) {
            try await removeUnrecorded()
        }
    }

    private func removeUnrecorded() async throws {
        try? await faults.healAll()   // nothing of a fault (a paused node, a helper container) outlives the cluster
        await withTaskGroup(of: Void.self) { group in
            for log in logs.values { group.addTask { await log.stopFollowing() } }
        }
        let mine = [Labels.cluster: name]
        let known = Set(record.nodes.map(\.container))
        let runtime = self.runtime
        let networks = try await withThrowingTaskGroup(of: [String].self) { group in
            group.addTask { try await runtime.remove(all: known.sorted()); return [] }
            group.addTask {
                let others = try await runtime.listContainers(labels: mine).filter { !known.contains($0.name) }
                try await withThrowingTaskGroup(of: Void.self) { inner in
                    for c in others { inner.addTask { try await runtime.remove(c.id) } }
                    try await inner.waitForAll()
                }
                return []
            }
            group.addTask { try await runtime.listNetworks(labels: mine) }
            var networks: Set<String> = [record.network]
            for try await listed in group { networks.formUnion(listed) }
            return networks
        }
        for network in networks.sorted() { try await runtime.removeNetwork(network) }
        try await removeFolderVolumes()
        try await removeFolder()
    }

    /// The state folder; files a container wrote as another user may resist the host (ccm-lua is
    /// not root, or a rootless engine mapped the writer to a sub-uid); then they are removed from
    /// inside a throwaway container.
    private func removeFolder() async throws {
        do { try store.delete(name); return } catch {}
        try await removeFolderInContainer()
    }

    func removeFolderInContainer() async throws {
        let dir = store.clusterDirectory(name).path
        let refusals = try await emptyFolderInContainer()
        do { try store.delete(name) } catch {
            let tried = refusals.isEmpty ? "" : " and could not be emptied from a container either (\(refusals.joined(separator: "; ")))"
            // A rootless engine's other users are the user's own sub-uids: no root needed.
            let how = runtime.location.isRootless ? "remove it in the engine's user namespace: podman unshare rm -rf \(dir)"
                                                  : "remove it as root: sudo rm -rf \(dir)"
            throw ClusterError(.state, "cannot remove \(dir): \(error.localizedDescription)\(tried). It holds files a container wrote as another user; \(how)")
        }
    }

    /// Runs `rm -rf` as root in a throwaway container of one of the cluster's images, with
    /// `folder` (a node's; the cluster's when nil) mounted. No shell: the folder's entries are listed here
    /// and passed as arguments, so an image that has `rm` but no `sh` serves; an image without `rm`
    /// (etcd's since 3.5.7) is skipped for the next one. Returns what went wrong (empty when `rm`
    /// ran and succeeded).
    func emptyFolderInContainer(_ folder: URL? = nil) async throws -> [String] {
        let dir = (folder ?? store.clusterDirectory(name)).path
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        guard !entries.isEmpty else { return [] }
        var images: [String] = []
        for image in record.nodes.map(\.plan.image) + [record.image] where !images.contains(image) { images.append(image) }
        var refusals: [String] = []
        for image in images {
            var spec = ContainerSpec(name: "\(name)-cleanup-\(Labels.runID)", image: image)
            spec.labels = Labels.forResource(cluster: name, keep: record.keep)
            spec.entrypoint = ["rm", "-rf"] + entries.map { "/target/" + $0 }
            spec.command = []
            spec.mounts = [Mount(hostPath: dir, containerPath: "/target")]
            spec.user = "0"
            do {
                let result = try await runToCompletion(spec, timeout: Defaults.folderContainerTimeout)
                return result.code == 0 ? [] : ["`rm` in a container of \(image) exited \(result.code)"]
            } catch let error as RuntimeError where error.kind == .startFailed || error.kind == .imageNotFound {
                let noRM = error.stderr.lowercased().contains("executable file not found")
                refusals.append(noRM ? "image \(image) has no `rm`" : "image \(image): \(error.summary)")
            }
        }
        return refusals
    }

    // MARK: Nodes

    public var snapshot: ClusterRecord { record }
    public var nodeNames: [String] { record.nodes.map(\.name) }

    public func node(_ name: String) throws -> NodeRecord {
        guard let node = record.nodes.first(where: { $0.name == name }) else {
            throw ClusterError(.usage, "cluster '\(self.name)' has no node '\(name)' (nodes: \(nodeNames.joined(separator: ", ")))")
        }
        return node
    }

    public func log(of node: String) throws -> NodeLog {
        guard let log = logs[node] else {
            _ = try self.node(node)
            throw ClusterError(.state, "cluster '\(name)': node \(node) has no log; attach to the cluster again with cluster.get(\"\(name)\")")
        }
        return log
    }

    /// Adds a node (created, not started) and keeps it in the record.
    public func addNode(_ spec: NodeSpec, pullOutput: PullOutput? = nil) async throws {
        guard !record.nodes.contains(where: { $0.name == spec.name }) else {
            throw ClusterError(.usage, "cluster '\(name)' has a node named '\(spec.name)' already")
        }
        var spec = spec
        spec.host = try Placement.host(forNewNodeIn: spec.dc, hosts: (record.hosts ?? []).map(\.name),
                                       byDatacenter: record.placement, current: record.nodes.compactMap(\.host))
        let images = try await Cluster.ensureImages([spec.plan.image], runtime: runtime, output: pullOutput)
        // The operation names the exact image the node is made from (history.jsonl, the report).
        try await History.run.record(kind: "node", name: "create", targets: [spec.name],
                                     details: Cluster.imageDetails(cluster: name, ref: spec.plan.image, images[spec.plan.image])) {
            try await createNodes([spec], images: images)
        }
    }

    /// Creates the nodes' folders and containers; the containers all at once (the engine takes
    /// a while per `create`, and nothing orders them), recorded in the order given.
    private func createNodes(_ specs: [NodeSpec], images: [String: ImageInfo]) async throws {
        let containers = try specs.map { try prepare($0) }
        if let hosts = runtime as? MultiHostRuntime {
            for (spec, c) in zip(specs, containers) { if let host = spec.host { hosts.place(node: spec.name, container: c.name, on: host) } }
        }
        for spec in specs { try await createFolderVolumes(spec.plan, node: spec.name) }
        // At once: where this process may not change owners, each node takes a throwaway container.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for spec in specs { group.addTask { try await self.handOverFolders(spec, imageUser: images[spec.plan.image]?.user) } }
            try await group.waitForAll()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (spec, c) in zip(specs, containers) {
                group.addTask {
                    _ = try await self.runtime.createContainer(c)
                    try await self.copyFilesIn(spec.plan, node: spec.name, container: c.name)
                }
            }
            try await group.waitForAll()
        }
        for (spec, c) in zip(specs, containers) {
            let node = NodeRecord(name: spec.name, index: spec.index, dc: spec.dc, container: c.name, plan: spec.plan,
                                  config: spec.config, ip: nil, imageID: images[spec.plan.image]?.id,
                                  imageDigest: images[spec.plan.image]?.digest, host: spec.host)
            record.nodes.append(node)
            logs[spec.name] = Cluster.makeLog(node, cluster: name, runtime: runtime, store: store)
        }
        neverStarted.formUnion(specs.map(\.name))
        try store.save(record)
    }

    /// A node's folder and files, and the container to create for it.
    private func prepare(_ spec: NodeSpec) throws -> ContainerSpec {
        let container = Cluster.containerName(name, spec.name)
        let dir = store.nodeDirectory(name, spec.name)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("logs"), withIntermediateDirectories: true)
        try writeFiles(spec.plan, into: dir)
        var c = ContainerSpec(name: container, image: spec.plan.image)
        c.labels = Labels.forResource(cluster: name, node: spec.name, keep: record.keep)
        c.env = spec.plan.env
        c.entrypoint = spec.plan.entrypoint
        c.command = spec.plan.command
        c.network = record.network
        c.networkAliases = [spec.name]
        c.hostname = spec.name
        c.capAdd = spec.plan.capAdd
        c.cpus = spec.plan.cpus
        c.memory = spec.plan.memory
        c.ports = spec.plan.ports + endpointPublications(spec.plan)
        c.user = spec.plan.user
        c.mounts = mounts(for: spec.plan, node: spec.name, nodeDirectory: dir)
        return c
    }

    /// Replaces a node's plan and configuration (e.g. after `n:set_config`): the files are written
    /// again now. A changed command, environment, image or mount needs a new container: made now
    /// when the node is not running, else at its next start.
    public func update(node name: String, plan: NodePlan, config: ConfigValue) async throws {
        guard let i = record.nodes.firstIndex(where: { $0.name == name }) else { _ = try node(name); return }
        let old = record.nodes[i].plan
        try writeFiles(plan, into: store.nodeDirectory(self.name, name))
        let container = record.nodes[i].container
        record.nodes[i].plan = plan
        record.nodes[i].config = config
        if plan.command != old.command || plan.env != old.env || plan.entrypoint != old.entrypoint
            || plan.image != old.image || plan.files.map(\.containerPath) != old.files.map(\.containerPath)
            || plan.directories != old.directories || plan.volumes != old.volumes
            || plan.user != old.user || plan.owner != old.owner {
            record.nodes[i].recreate = true
        }
        try store.save(record)
        // A remote engine's container has copies, not the files: they are copied again (a new
        // container made below or at the next start gets them when it is created).
        try await copyFilesIn(plan, node: name, container: container)
        try await recreateIfStopped(name)
    }

    /// The cluster's own configuration (the spec's `config`), merged with `overlay` and kept in the
    /// record: nodes added later, by this process or another, start from it (`c:set_config`,
    /// `ccm-lua updateconf`). Returns the merged configuration.
    @discardableResult
    public func mergeClusterConfig(_ overlay: ConfigValue) throws -> ConfigValue {
        var entries: [(key: String, value: ConfigValue)] = []
        if case .map(let kept)? = record.request { entries = kept }
        let merged = (record.request?["config"] ?? .map([])).merging(overlay)
        if let i = entries.firstIndex(where: { $0.key == "config" }) { entries[i].value = merged } else { entries.append(("config", merged)) }
        record.request = .map(entries)
        try store.save(record)
        return merged
    }

    /// Makes the node's container anew from its plan when the plan changed and it is not running.
    /// The node keeps its place, name, folder and log; on failure the old record stays.
    func recreateIfStopped(_ name: String) async throws {
        guard let i = record.nodes.firstIndex(where: { $0.name == name }), record.nodes[i].recreate == true else { return }
        let node = record.nodes[i]
        let state = try await runtime.inspect(node.container).state
        guard state == .created || state == .exited || state == .dead else { return }
        let images = try await Cluster.ensureImages([node.plan.image], runtime: runtime)
        let nodeSpec = NodeSpec(name: node.name, index: node.index, dc: node.dc, plan: node.plan, config: node.config)
        let spec = try prepare(nodeSpec)
        try await createFolderVolumes(node.plan, node: name)
        try await handOverFolders(nodeSpec, imageUser: images[node.plan.image]?.user)
        try await History.run.record(kind: "node", name: "create", targets: [name],
                                     details: Cluster.imageDetails(cluster: self.name, ref: node.plan.image, images[node.plan.image])) {
            try await runtime.remove(node.container)
            _ = try await runtime.createContainer(spec)
            try await copyFilesIn(node.plan, node: name, container: spec.name)
        }
        record.nodes[i].imageID = images[node.plan.image]?.id
        record.nodes[i].imageDigest = images[node.plan.image]?.digest
        record.nodes[i].recreate = nil
        try store.save(record)
    }

    /// History details of an operation on a node: its cluster and the image it runs, by reference,
    /// id and digest (where the engine has one), so a run's record names the exact image.
    static func imageDetails(cluster: String, ref: String, _ info: ImageInfo?) -> [String: String] {
        var details = ["cluster": cluster, "image": ref]
        if let id = info?.id { details["image_id"] = id }
        if let digest = info?.digest { details["image_digest"] = digest }
        return details
    }

    func imageDetails(of node: NodeRecord) -> [String: String] {
        var details = ["cluster": name, "image": node.plan.image]
        if let id = node.imageID { details["image_id"] = id }
        if let digest = node.imageDigest { details["image_digest"] = digest }
        return details
    }

    private func mounts(for plan: NodePlan, node: String, nodeDirectory dir: URL) -> [Mount] {
        // On a remote engine the folders are volumes there and the files are copied in (NodeFolders).
        if foldersAreVolumes { return folderVolumeMounts(plan, node: node) + plan.volumes }
        var mounts = plan.files.compactMap { file in
            file.containerPath.map { Mount(hostPath: dir.appendingPathComponent(file.path).path, containerPath: $0) }
        }
        mounts += plan.directories.map { Mount(hostPath: dir.appendingPathComponent($0.path).path, containerPath: $0.containerPath) }
        return mounts + plan.volumes
    }

    /// Writes in place (not rename): a bind-mounted single file keeps its inode, so the container
    /// sees the new content at its next start.
    private func writeFiles(_ plan: NodePlan, into dir: URL) throws {
        for file in plan.files {
            let url = dir.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if let handle = FileHandle(forWritingAtPath: url.path) {
                defer { try? handle.close() }
                try handle.truncate(atOffset: 0)
                try handle.write(contentsOf: Data(file.content.utf8))
            } else {
                try Data(file.content.utf8).write(to: url)
            }
        }
        for d in plan.directories where !foldersAreVolumes {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(d.path), withIntermediateDirectories: true)
        }
    }

    /// Images must be present before anything is created (`ImagePolicy`). Returns what the engine
    /// knows of each image: its id and digest (recorded per node, so a failure can name the exact
    /// image) and the user it runs as (see `FolderOwner`).
    @discardableResult
    static func ensureImages(_ images: Set<String>, pull: PullPolicy? = nil, runtime: any ContainerRuntime,
                             output: PullOutput? = nil) async throws -> [String: ImageInfo] {
        try await ImagePolicy.ensure(images, policy: pull, runtime: runtime, output: output)
    }

    // MARK: Status

    public func status() async throws -> [NodeStatus] {
        var result: [NodeStatus] = []
        for node in record.nodes {
            do {
                let info = try await runtime.inspect(node.container)
                result.append(NodeStatus(name: node.name, state: info.state, ip: address(in: info), image: node.plan.image))
            } catch let error as RuntimeError where error.kind == .containerNotFound {
                result.append(NodeStatus(name: node.name, state: nil, ip: nil, image: node.plan.image))
            }
        }
        return result
    }

    public func state(of node: String) async throws -> ContainerState {
        try await runtime.inspect(try self.node(node).container).state
    }

    /// The node's address on the cluster network (nil when it is not running).
    public func ip(of node: String) async throws -> String? {
        address(in: try await runtime.inspect(try self.node(node).container))
    }

    /// A stopped container keeps its network entry (Docker with an empty address, Podman with the
    /// old one), but nothing answers there: only a running or paused node has an address.
    private func address(in info: ContainerInfo) -> String? {
        info.state == .running || info.state == .paused ? info.ipAddresses[record.network] : nil
    }

    /// Reads the nodes' addresses (one engine call) and keeps changed ones in the record.
    func refreshIPs(_ names: [String]) async {
        let indexes = names.compactMap { name in record.nodes.firstIndex { $0.name == name } }
        guard let infos = try? await runtime.inspect(all: indexes.map { record.nodes[$0].container }) else { return }
        var changed = false
        for (i, info) in zip(indexes, infos) {
            if let ip = info.ipAddresses[record.network], ip != record.nodes[i].ip { record.nodes[i].ip = ip; changed = true }
        }
        if changed { try? store.save(record) }
    }
}
