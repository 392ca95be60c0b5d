import Foundation

/// What a profile decided one node is: its image, command, environment, files and how to tell it is
/// ready. Profiles are Lua modules; Bindings turns what they return into a `NodePlan`, and Core
/// carries it out. Kept in `cluster.json`, so a later process can restart the node the same way.
public struct NodePlan: Sendable, Equatable, Codable {
    public var image: String
    public var entrypoint: [String]?
    /// Arguments after the image; nil keeps the image's own CMD.
    public var command: [String]?
    public var env: [String: String] = [:]
    /// Files written into the node folder (and mounted into the container where `containerPath` is set).
    public var files: [NodeFile] = []
    /// Node-folder subdirectories mounted into the container, e.g. "data" -> "/var/lib/scylla".
    public var directories: [NodeDirectory] = []
    /// Extra mounts from the spec (`volumes`), host paths as given.
    public var volumes: [Mount] = []
    public var capAdd: [String] = []
    public var cpus: Double?
    public var memory: String?
    public var ports: [PortMapping] = []
    /// Ports the node serves its clients on (etcd: 2379). Published on the host when `n:endpoint`
    /// cannot reach the node's address (`NodeEndpoints`). Optional: records written before it.
    public var clientPorts: [Int]?
    /// `--user`: who the container runs as ("uid", "uid:gid" or a name the image knows).
    public var user: String?
    /// Who owns the node's mounted directories ("uid" or "uid:gid"), when not `user` (see
    /// `FolderOwner`): for images that run as a user of their own or drop privileges themselves.
    public var owner: String?
    public var readiness: Readiness = .init()

    public init(image: String) { self.image = image }
}

/// A generated file, e.g. `conf/scylla.yaml` mounted at `/etc/scylla/scylla.yaml`.
public struct NodeFile: Sendable, Equatable, Codable {
    /// Relative to the node folder.
    public var path: String
    public var containerPath: String?
    public var content: String
    public init(path: String, containerPath: String?, content: String) {
        self.path = path; self.containerPath = containerPath; self.content = content
    }
}

public struct NodeDirectory: Sendable, Equatable, Codable {
    public var path: String
    public var containerPath: String
    public init(path: String, containerPath: String) { self.path = path; self.containerPath = containerPath }
}

/// How to tell a node is ready. Every part that is set must hold: the log line first (it is free to
/// watch), then the probe, retried until it exits 0.
public struct Readiness: Sendable, Equatable, Codable {
    /// A regular expression (Swift Regex syntax) a log line must match, counted from the start.
    public var logPattern: String?
    public var plain: Bool = false
    /// A command run inside the container (argv).
    public var probe: [String]?
    /// Seconds between probe attempts.
    public var probeInterval: Double = 0.25
    /// `false`: a log line printed by this start is proof enough, and the probe checks only a node
    /// that was running already (its line is old). For software whose ready line is printed only
    /// once what the probe checks holds (etcd). Nil or `true`: the probe follows the line.
    public var probeAfterLog: Bool?
    /// How long a start waits for this node by default (a slow image's profile raises it); the
    /// script's own `timeout` wins. Nil: `Defaults.startTimeout`.
    public var timeout: Double?
    public init(logPattern: String? = nil, plain: Bool = false, probe: [String]? = nil) {
        self.logPattern = logPattern; self.plain = plain; self.probe = probe
    }
    public var isNone: Bool { logPattern == nil && probe == nil }
}

/// In which order a cluster's nodes are started; the profile knows what its software likes.
public enum StartOrder: String, Sendable, Codable {
    /// All containers at once, then wait for all.
    case parallel
    /// Start containers one after another without waiting, then wait for all. Fastest for etcd,
    /// whose nodes probe peers that exist but do not answer yet (ENVIRONMENT.md).
    case sequential
    /// Start one, wait until it is ready, then the next: databases that bootstrap one node at a time.
    case oneByOne = "one-by-one"
}
