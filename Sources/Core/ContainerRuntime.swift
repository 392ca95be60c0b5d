/// The one way Core drives containers. `CLIContainerRuntime` implements it over the `docker` and
/// `podman` command-line tools; `CoreTesting.FakeContainerRuntime` implements it for unit tests.
///
/// Every method speaks in engine-neutral terms: the Docker/Podman differences (JSON shapes, exit
/// codes, default stop timeouts) stay inside the implementation. Failures are `RuntimeError`s.
/// Containers are named by name or id (`ContainerRef`); either works everywhere.
public protocol ContainerRuntime: Sendable {
    var engine: Engine { get }
    /// Local or remote, rootful or rootless: how nodes are reached from here (`NodeEndpoints`).
    var location: EngineLocation { get }

    /// Client and server versions; fails with `.daemonNotRunning` when only the client answers.
    func version() async throws -> EngineVersion

    // MARK: Images
    func imageExists(_ reference: String) async throws -> Bool
    /// Fails with `.imageNotFound` when the image is not present locally.
    func inspectImage(_ reference: String) async throws -> ImageInfo
    func pullImage(_ reference: String) async throws
    /// As `pullImage(_:)`, handing each line the engine prints to `progress` as it comes.
    func pullImage(_ reference: String, progress: (@Sendable (String) -> Void)?) async throws
    /// Lines the engine prints go to `request.progress` as they come.
    func buildImage(_ request: ImageBuild) async throws
    /// Images carrying every one of `labels` (an empty value matches any value).
    func listImages(labels: [String: String]) async throws -> [ImageInfo]
    /// Untags or removes an image; removing one that is not there is not an error.
    func removeImage(_ reference: String) async throws

    // MARK: Networks
    func createNetwork(_ spec: NetworkSpec) async throws
    func connect(network: String, container: ContainerRef, aliases: [String]) async throws
    func disconnect(network: String, container: ContainerRef) async throws
    /// Removing a network that does not exist is not an error.
    func removeNetwork(_ name: String) async throws
    /// Names of the networks carrying every one of `labels` (an empty value matches any value).
    func listNetworks(labels: [String: String]) async throws -> [String]

    // MARK: Volumes
    func createVolume(_ spec: VolumeSpec) async throws
    /// Removing a volume that does not exist is not an error.
    func removeVolume(_ name: String) async throws
    /// Names of the volumes carrying every one of `labels` (an empty value matches any value).
    func listVolumes(labels: [String: String]) async throws -> [String]

    // MARK: Containers
    /// Creates (does not start) a container; returns its id.
    func createContainer(_ spec: ContainerSpec) async throws -> String
    func start(_ container: ContainerRef) async throws
    /// Asks the main process to stop (SIGTERM), and kills it after `timeout` seconds.
    func stop(_ container: ContainerRef, timeout: Double) async throws
    func kill(_ container: ContainerRef, signal: String) async throws
    func pause(_ container: ContainerRef) async throws
    func unpause(_ container: ContainerRef) async throws
    func restart(_ container: ContainerRef, timeout: Double) async throws
    /// Force-removes at once (no graceful stop), with its anonymous volumes.
    /// Removing a container that does not exist is not an error.
    func remove(_ container: ContainerRef) async throws
    /// `remove` for several containers. One engine call where the engine allows (Podman removes
    /// three containers in one `rm` in half the time three concurrent `rm`s take).
    func remove(all containers: [ContainerRef]) async throws
    /// Starts them one after another, in order, without waiting for anything in between.
    func start(inOrder containers: [ContainerRef]) async throws
    func inspect(_ container: ContainerRef) async throws -> ContainerInfo
    /// Several at once, in order (a missing one is an error, as for `inspect`).
    func inspect(all containers: [ContainerRef]) async throws -> [ContainerInfo]
    /// Containers carrying every one of `labels` (running or not; an empty value matches any value).
    func listContainers(labels: [String: String]) async throws -> [ContainerSummary]

    // MARK: Processes, files, logs
    /// Runs `request.argv` inside a running container. A non-zero exit is a result, not an error;
    /// a timeout is `.timeout`, and the process is killed.
    func exec(_ container: ContainerRef, _ request: ExecRequest) async throws -> ExecResult
    func copyIn(_ container: ContainerRef, content: [UInt8], to path: String) async throws
    func copyOut(_ container: ContainerRef, from path: String) async throws -> [UInt8]
    /// The container's output (stdout and stderr) as lines, each with the engine's timestamp;
    /// with `since`, only lines strictly after that timestamp (pass the last one seen to resume
    /// without reading a line twice). With `follow`, the stream
    /// keeps going until the container stops or the consumer stops iterating (the engine process is
    /// then ended; nothing is left running).
    func logs(_ container: ContainerRef, since: String?, follow: Bool) -> AsyncThrowingStream<LogLine, any Error>

    // MARK: Several hosts
    /// This engine's Docker Swarm membership (not a member: an engine without Swarm, e.g. Podman).
    func swarm() async throws -> SwarmMembership
}

public enum Engine: String, Sendable, CaseIterable, Codable {
    case docker, podman
}

/// A container's name or id.
public typealias ContainerRef = String

public struct EngineVersion: Sendable, Equatable {
    public var client: String
    public var server: String
    public init(client: String, server: String) { self.client = client; self.server = server }
}

public struct ImageInfo: Sendable, Equatable {
    /// `sha256:...` on both engines (Podman prints it without the prefix; it is added).
    public var id: String
    /// `name@sha256:...` entries; empty for images that were built or imported locally into Docker.
    public var repoDigests: [String]
    public var tags: [String]
    /// The manifest digest when the engine knows one (Podman always; Docker only for pulled
    /// images, from the first repo digest). Recorded so a failing run can name the exact image.
    public var digest: String?
    /// The user the image runs as (`USER` in its Dockerfile), nil or empty for root.
    public var user: String?
    /// RFC 3339, as the engine prints it.
    public var created: String?
    public var labels: [String: String]
    /// Bytes.
    public var size: Int64?
    public init(id: String, repoDigests: [String], tags: [String], digest: String? = nil, user: String? = nil,
                created: String? = nil, labels: [String: String] = [:], size: Int64? = nil) {
        self.id = id; self.repoDigests = repoDigests; self.tags = tags; self.digest = digest; self.user = user
        self.created = created; self.labels = labels; self.size = size
    }
}

public struct ImageBuild: Sendable {
    public var contextDirectory: String
    public var dockerfile: String?
    public var tag: String
    public var buildArgs: [String: String]
    /// The stage of a multi-stage Dockerfile to build (`--target`).
    public var target: String? = nil
    public var labels: [String: String] = [:]
    /// Receives each line of the build's output as it comes (nil: collected only).
    public var progress: (@Sendable (String) -> Void)? = nil
    public init(contextDirectory: String, dockerfile: String? = nil, tag: String, buildArgs: [String: String] = [:]) {
        self.contextDirectory = contextDirectory; self.dockerfile = dockerfile; self.tag = tag; self.buildArgs = buildArgs
    }
}

public struct NetworkSpec: Sendable {
    public var name: String
    public var labels: [String: String]
    public var subnet: String?
    /// nil: the engine's default (a bridge); "overlay" for a network across the hosts of a swarm.
    public var driver: String? = nil
    /// Plain containers (not only Swarm services) may join it: ccm-lua's nodes are containers.
    public var attachable = false
    public init(name: String, labels: [String: String] = [:], subnet: String? = nil) {
        self.name = name; self.labels = labels; self.subnet = subnet
    }
}

public struct VolumeSpec: Sendable {
    public var name: String
    public var labels: [String: String]
    public init(name: String, labels: [String: String] = [:]) { self.name = name; self.labels = labels }
}

public struct Mount: Sendable, Equatable, Codable {
    /// A host directory or file (absolute path), or the name of a volume.
    public var hostPath: String
    public var containerPath: String
    public var readOnly: Bool
    public init(hostPath: String, containerPath: String, readOnly: Bool = false) {
        self.hostPath = hostPath; self.containerPath = containerPath; self.readOnly = readOnly
    }
}

public struct PortMapping: Sendable, Equatable, Codable {
    public var hostPort: Int?          // nil: the engine picks a free one
    public var containerPort: Int
    public var proto: String           // "tcp" or "udp"
    public var hostIP: String
    public init(hostPort: Int? = nil, containerPort: Int, proto: String = "tcp", hostIP: String = "127.0.0.1") {
        self.hostPort = hostPort; self.containerPort = containerPort; self.proto = proto; self.hostIP = hostIP
    }
}

public struct ContainerSpec: Sendable {
    public var name: String
    public var image: String
    public var labels: [String: String] = [:]
    public var env: [String: String] = [:]
    /// Arguments after the image (the entrypoint's arguments); nil keeps the image's CMD.
    public var command: [String]? = nil
    public var entrypoint: [String]? = nil
    public var mounts: [Mount] = []
    public var network: String? = nil
    public var networkAliases: [String] = []
    public var hostname: String? = nil
    public var capAdd: [String] = []
    public var cpus: Double? = nil
    /// As the engines take it: "512m", "2g", or bytes.
    public var memory: String? = nil
    public var ports: [PortMapping] = []
    public var user: String? = nil
    public var workdir: String? = nil
    public init(name: String, image: String) { self.name = name; self.image = image }
}

public enum ContainerState: String, Sendable, Codable {
    case created, running, paused, restarting, removing, exited, dead
    /// Podman says "configured"/"stopped" where Docker says "created"/"exited".
    public init(engineText: String) {
        switch engineText.lowercased() {
        case "created", "configured", "initialized": self = .created
        case "running": self = .running
        case "paused": self = .paused
        case "restarting": self = .restarting
        case "removing", "stopping": self = .removing
        case "dead": self = .dead
        default: self = .exited
        }
    }
}

extension ContainerState {
    /// The four words scripts and `ccm-lua status` use for a node: created, running, paused,
    /// exited (the engines' other states are passing moments of these).
    public var nodeState: String {
        switch self {
        case .created: "created"
        case .running, .restarting: "running"
        case .paused: "paused"
        case .removing, .exited, .dead: "exited"
        }
    }
}

public struct ContainerInfo: Sendable, Equatable {
    public var id: String
    public var name: String
    public var image: String
    /// The image id (sha256:...) the container was created from.
    public var imageID: String
    public var state: ContainerState
    public var exitCode: Int32
    public var pid: Int32
    /// RFC 3339 time the container last started ("" before the first start).
    public var startedAt: String
    /// Network name -> IPv4 address.
    public var ipAddresses: [String: String]
    public var labels: [String: String]
    /// Ports the engine publishes on its host while the container runs (host ports may change at
    /// every start).
    public var publishedPorts: [PublishedPort]
    public init(id: String, name: String, image: String, imageID: String, state: ContainerState, exitCode: Int32,
                pid: Int32, startedAt: String, ipAddresses: [String: String], labels: [String: String],
                publishedPorts: [PublishedPort] = []) {
        self.id = id; self.name = name; self.image = image; self.imageID = imageID; self.state = state
        self.exitCode = exitCode; self.pid = pid; self.startedAt = startedAt; self.ipAddresses = ipAddresses
        self.labels = labels; self.publishedPorts = publishedPorts
    }
}

/// One published port of a running container: `hostIP:hostPort` leads to `containerPort`.
public struct PublishedPort: Sendable, Equatable {
    public var containerPort: Int
    public var proto: String
    public var hostIP: String
    public var hostPort: Int
    public init(containerPort: Int, proto: String = "tcp", hostIP: String, hostPort: Int) {
        self.containerPort = containerPort; self.proto = proto; self.hostIP = hostIP; self.hostPort = hostPort
    }
}

public struct ContainerSummary: Sendable, Equatable {
    public var id: String
    public var name: String
    public var state: ContainerState
    public var labels: [String: String]
    public init(id: String, name: String, state: ContainerState, labels: [String: String]) {
        self.id = id; self.name = name; self.state = state; self.labels = labels
    }
}

public struct ExecRequest: Sendable {
    public var argv: [String]
    public var env: [String: String] = [:]
    public var user: String? = nil
    public var workdir: String? = nil
    public var stdin: [UInt8]? = nil
    /// Seconds; nil waits for ever.
    public var timeout: Double? = nil
    public init(argv: [String]) { self.argv = argv }
}

public struct ExecResult: Sendable, Equatable {
    public var code: Int32
    public var stdout: String
    public var stderr: String
    /// Seconds, wall time of the whole call.
    public var duration: Double
    public init(code: Int32, stdout: String, stderr: String, duration: Double) {
        self.code = code; self.stdout = stdout; self.stderr = stderr; self.duration = duration
    }
}

public struct LogLine: Sendable, Equatable {
    /// The engine's RFC 3339 timestamp (nanosecond precision), usable as `since:` to resume.
    public var timestamp: String
    public var text: String
    /// Whether the container printed it on stderr (else stdout).
    public var isStderr: Bool
    public init(timestamp: String, text: String, isStderr: Bool = false) {
        self.timestamp = timestamp; self.text = text; self.isStderr = isStderr
    }
}

extension ContainerRuntime {
    public var location: EngineLocation { .localRootful }

    public func swarm() async throws -> SwarmMembership { .notMember }

    /// One call each, concurrently.
    public func inspect(all containers: [ContainerRef]) async throws -> [ContainerInfo] {
        try await withThrowingTaskGroup(of: (Int, ContainerInfo).self) { group in
            for (i, c) in containers.enumerated() { group.addTask { (i, try await self.inspect(c)) } }
            var infos = [ContainerInfo?](repeating: nil, count: containers.count)
            for try await (i, info) in group { infos[i] = info }
            return infos.compactMap { $0 }
        }
    }

    /// One call each, in order.
    public func start(inOrder containers: [ContainerRef]) async throws {
        for c in containers { try await start(c) }
    }

    /// Removes them concurrently, one call each.
    public func remove(all containers: [ContainerRef]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in containers { group.addTask { try await self.remove(c) } }
            try await group.waitForAll()
        }
    }
}
