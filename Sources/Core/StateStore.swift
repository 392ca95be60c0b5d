import Foundation

/// What is kept about one cluster in `<home>/<cluster>/cluster.json`, so that a later process
/// (`cluster.get`, `ccm-lua status`) sees the same nodes, IPs and logs.
public struct ClusterRecord: Sendable, Codable, Equatable {
    public var name: String
    public var engine: Engine
    public var profile: String
    public var image: String
    public var network: String
    public var startOrder: StartOrder
    public var keep: Bool
    /// The run and process that created it: `gc` removes clusters whose owner is gone.
    public var runID: String
    public var ownerPID: Int32
    /// `Labels.hostIdentity` of the owner: `gc` elsewhere leaves the cluster alone. Nil in records
    /// written before it was kept (judged by the pid, as then).
    public var ownerHost: String? = Labels.hostIdentity
    public var createdAt: Date
    public var nodes: [NodeRecord]
    /// Extra containers (`add_service`) on the cluster network.
    public var services: [String] = []
    /// The spec the script gave (profile by name), for planning more nodes from another process.
    public var request: ConfigValue? = nil
    /// The engines of a cluster that spans several (nil: the one engine `engine` names), in the
    /// order given; `manager` names the one whose swarm carries the overlay network.
    public var hosts: [EngineHost]? = nil
    public var manager: String? = nil
    /// Datacenter -> host, as the script placed them (nil: round-robin).
    public var placement: [String: String]? = nil
}

public struct NodeRecord: Sendable, Codable, Equatable {
    public var name: String
    public var index: Int
    public var dc: String?
    public var container: String
    public var plan: NodePlan
    /// The node's merged configuration (profile defaults + spec + set_config), for `n:config()`.
    public var config: ConfigValue
    /// The last address seen, so `status` can show it without asking the engine.
    public var ip: String?
    /// The image id the container was created from: which exact image a run used.
    public var imageID: String?
    /// The image's manifest digest, where the engine has one (Podman; Docker for pulled images).
    public var imageDigest: String? = nil
    /// The plan changed in a way the container cannot follow: make it anew at the next start.
    public var recreate: Bool? = nil
    /// The host (`ClusterRecord.hosts`) the node runs on; nil on a cluster of one engine.
    public var host: String? = nil
}

/// The state directory: `CCM_LUA_HOME` (default `~/.ccm-lua`), one folder per cluster with its
/// `cluster.json` and one folder per node (`conf/`, `logs/`, data). Writes are atomic.
public struct StateStore: Sendable {
    public let home: URL

    public init(home: URL) { self.home = home }

    /// `CCM_LUA_HOME`, else `CCM_CONFIG_DIR` (ccm's name for its state folder), else `~/.ccm-lua`.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> StateStore {
        for variable in ["CCM_LUA_HOME", "CCM_CONFIG_DIR"] {
            if let path = env[variable], !path.isEmpty { return StateStore(home: URL(fileURLWithPath: path)) }
        }
        let homeDir = env["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        return StateStore(home: homeDir.appendingPathComponent(".ccm-lua"))
    }

    public func clusterDirectory(_ cluster: String) -> URL { home.appendingPathComponent(cluster, isDirectory: true) }
    public func nodeDirectory(_ cluster: String, _ node: String) -> URL {
        clusterDirectory(cluster).appendingPathComponent(node, isDirectory: true)
    }
    public func logFile(_ cluster: String, _ node: String) -> URL {
        nodeDirectory(cluster, node).appendingPathComponent("logs/node.log")
    }
    private func recordFile(_ cluster: String) -> URL { clusterDirectory(cluster).appendingPathComponent("cluster.json") }

    public func exists(_ cluster: String) -> Bool { FileManager.default.fileExists(atPath: recordFile(cluster).path) }

    /// Cluster names with a readable record, sorted.
    public func list() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: home.path)) ?? []
        return names.filter { exists($0) }.sorted()
    }

    public func load(_ cluster: String) throws -> ClusterRecord {
        let file = recordFile(cluster)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ClusterError(.notFound, "no cluster named '\(cluster)' in \(home.path) (clusters there: \(list().joined(separator: ", ").ifEmpty("none")))")
        }
        do {
            return try Self.decoder.decode(ClusterRecord.self, from: data)
        } catch {
            throw ClusterError(.state, "\(file.path) is unreadable (\(error)); remove the cluster with `ccm-lua rm \(cluster)`")
        }
    }

    public func save(_ record: ClusterRecord) throws {
        try FileManager.default.createDirectory(at: clusterDirectory(record.name), withIntermediateDirectories: true)
        try writeAtomically(try Self.encoder.encode(record), to: recordFile(record.name))
    }

    /// Creates the cluster folder; fails if it exists, so two processes cannot take the same name.
    public func claim(_ cluster: String) throws {
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        guard mkdir(clusterDirectory(cluster).path, 0o755) == 0 else {
            if errno == EEXIST {
                throw ClusterError(.usage, "a cluster named '\(cluster)' exists already; pick another name, attach to it with cluster.get(\"\(cluster)\"), or remove it with `ccm-lua rm \(cluster)`")
            }
            throw ClusterError(.state, "cannot create \(clusterDirectory(cluster).path): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes the cluster's folder. Files a container wrote as another user may resist; the caller
    /// handles that (see `Cluster.remove`).
    public func delete(_ cluster: String) throws {
        let dir = clusterDirectory(cluster)
        guard FileManager.default.fileExists(atPath: dir.path) else { return }
        try FileManager.default.removeItem(at: dir)
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.dateEncodingStrategy = .iso8601
        return e
    }()
    private static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}

/// Temp file in the same folder, then rename: readers see the old file or the new one, never half.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    try data.write(to: temp)
    guard rename(temp.path, url.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temp)
        throw ClusterError(.state, "cannot write \(url.path): \(reason)")
    }
}

extension String {
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
