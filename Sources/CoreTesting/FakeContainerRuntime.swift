import Core
import Foundation
import Synchronization

/// An in-memory `ContainerRuntime` for unit tests of the layers above (cluster, node, bindings).
///
/// It keeps images, networks, volumes and containers with the same state machine the engines have
/// (created → running ⇄ paused, running → exited, removal at any time), records every call, and
/// answers `exec` and `logs` from scripts the test sets up. It fails the way the real runtime
/// does (`RuntimeError` of the same kinds), so error paths can be tested without an engine.
public final class FakeContainerRuntime: ContainerRuntime, Sendable {
    /// One recorded call: the protocol method's name and its main arguments as text.
    public struct Call: Sendable, Equatable, CustomStringConvertible {
        public var method: String
        public var arguments: [String]
        public init(_ method: String, _ arguments: [String] = []) { self.method = method; self.arguments = arguments }
        public var description: String { ([method] + arguments).joined(separator: " ") }
    }

    /// What a scripted exec answers: a result, or an error to throw (e.g. `.timeout`).
    public enum ExecResponse: Sendable {
        case result(code: Int32, stdout: String = "", stderr: String = "")
        case error(RuntimeError.Kind)
    }

    public struct Container: Sendable {
        public var id: String
        public var spec: ContainerSpec
        public var state: ContainerState = .created
        public var exitCode: Int32 = 0
        public var pid: Int32 = 0
        public var startedAt = ""
        /// Network name -> IPv4 address.
        public var networks: [String: String] = [:]
        public var logs: [LogLine] = []
        /// Host ports of `spec.ports`, handed out anew at every start, as the engines do.
        public var published: [PublishedPort] = []
    }

    struct State {
        var calls: [Call] = []
        var images: [String: ImageInfo] = [:]
        var networks: [String: NetworkSpec] = [:]
        var volumes: [String: VolumeSpec] = [:]
        var containers: [String: Container] = [:]          // by name
        var execScripts: [(prefix: [String], container: String?, response: ExecResponse)] = []
        var failures: [String: RuntimeError.Kind] = [:]    // method -> next failure
        var followers: [String: [Int: AsyncThrowingStream<LogLine, any Error>.Continuation]] = [:]
        var nextFollower = 0
        var clock = 0
        var nextIP = 2
        var nextPID = 1000
        var nextHostPort = 32768
        var files: [String: [UInt8]] = [:]                 // "container:path" -> content
        /// Log followers of containers that ended, finished once the lock is released (finishing
        /// runs their termination handler, which takes the lock again).
        var endedFollowers: [AsyncThrowingStream<LogLine, any Error>.Continuation] = []
        /// Containers another (pretended) process is removing: see `removeElsewhere`.
        var removedElsewhere: Set<String> = []
        var swarm = SwarmMembership.notMember
    }

    public let engine: Engine
    /// What `version()` answers.
    public let versions: EngineVersion
    /// The exit code a container gets from `stop` (its main process ended by SIGTERM).
    public let stopExitCode: Int32
    /// Where the pretended engine runs (local rootful unless a test says otherwise).
    public let location: EngineLocation
    private let state = Mutex(State())

    /// - Parameter images: image references that exist from the start.
    public init(engine: Engine = .docker, images: [String] = [], versions: EngineVersion = EngineVersion(client: "fake", server: "fake"),
                stopExitCode: Int32 = 0, location: EngineLocation = .localRootful) {
        self.engine = engine
        self.location = location
        self.versions = versions
        self.stopExitCode = stopExitCode
        state.withLock { state in
            for image in images { state.images[image] = Self.imageInfo(image) }
        }
    }

    // MARK: Test controls

    /// What `swarm()` answers from now on.
    public func setSwarm(_ membership: SwarmMembership) { state.withLock { $0.swarm = membership } }
    public func network(_ name: String) -> NetworkSpec? { state.withLock { $0.networks[name] } }

    /// Makes this engine a worker of `manager`'s swarm: its containers may join the manager's
    /// networks (an attachable overlay), which this engine does not list, as Docker's workers.
    public func join(swarmOf manager: FakeContainerRuntime) { swarmManager.withLock { $0 = manager } }
    private let swarmManager = Mutex<FakeContainerRuntime?>(nil)

    public func swarm() async throws -> SwarmMembership {
        try record("swarm")
        return state.withLock { $0.swarm }
    }

    /// Every call so far, in order.
    public var calls: [Call] { state.withLock { $0.calls } }
    /// The recorded calls of one method.
    public func calls(_ method: String) -> [Call] { calls.filter { $0.method == method } }

    /// The container as the fake holds it, by name or id.
    public func container(_ ref: ContainerRef) -> Container? { state.withLock { Self.find(ref, in: $0) } }
    public var containerNames: [String] { state.withLock { $0.containers.keys.sorted() } }
    public var networkNames: [String] { state.withLock { $0.networks.keys.sorted() } }
    public var volumeNames: [String] { state.withLock { $0.volumes.keys.sorted() } }

    public func addImage(_ reference: String) { state.withLock { $0.images[reference] = Self.imageInfo(reference) } }

    /// Answers the next execs whose argv starts with `prefix` (in `container`, or any) with
    /// `response`. Later scripts win over earlier ones; unmatched execs exit 0 with no output.
    public func scriptExec(_ prefix: [String], in container: String? = nil, _ response: ExecResponse) {
        state.withLock { $0.execScripts.insert((prefix, container, response), at: 0) }
    }

    /// Makes the next call of `method` (e.g. "start", "createContainer") fail with `kind`.
    public func failNext(_ method: String, with kind: RuntimeError.Kind) {
        state.withLock { $0.failures[method] = kind }
    }

    /// Appends lines to a container's log, as if its main process printed them; followers see them.
    public func emitLog(_ container: ContainerRef, _ lines: String...) { emit(container, lines, batch: false, stderr: false) }

    /// Appends lines on stderr.
    public func emitStderr(_ container: ContainerRef, _ lines: String...) { emit(container, lines, batch: false, stderr: true) }

    /// Appends lines that all get one timestamp, as Podman stamps a batch the program wrote at once.
    public func emitBatch(_ container: ContainerRef, _ lines: String...) { emit(container, lines, batch: true, stderr: false) }

    private func emit(_ container: ContainerRef, _ lines: [String], batch: Bool, stderr: Bool) {
        state.withLock { state in
            guard let name = Self.find(ref: container, in: state) else { return }
            let stamp = Self.timestamp(&state.clock)
            for text in lines {
                let line = LogLine(timestamp: batch ? stamp : Self.timestamp(&state.clock), text: text, isStderr: stderr)
                state.containers[name]?.logs.append(line)
                for follower in state.followers[name, default: [:]].values { follower.yield(line) }
            }
        }
    }

    /// Ends the container's main process with `code`, as if it exited by itself.
    public func exitContainer(_ container: ContainerRef, code: Int32) {
        try? withState { state in
            guard let name = Self.find(ref: container, in: state) else { return }
            Self.end(name, code: code, in: &state)
        }
    }

    // MARK: Engine

    public func version() async throws -> EngineVersion {
        try record("version")
        return versions
    }

    // MARK: Images

    public func imageExists(_ reference: String) async throws -> Bool {
        try record("imageExists", [reference])
        return state.withLock { $0.images[Self.imageKey(reference)] != nil }
    }

    public func inspectImage(_ reference: String) async throws -> ImageInfo {
        try record("inspectImage", [reference])
        guard let info = state.withLock({ $0.images[Self.imageKey(reference)] }) else {
            throw error(.imageNotFound, "Image \(reference) is not present.")
        }
        return info
    }

    public func pullImage(_ reference: String) async throws {
        try await pullImage(reference, progress: nil)
    }

    /// Prints two lines of progress, as an engine's pull does.
    public func pullImage(_ reference: String, progress: (@Sendable (String) -> Void)?) async throws {
        try record("pullImage", [reference])
        progress?("\(reference): Pulling from fake registry")
        progress?("Status: Downloaded newer image for \(reference)")
        addImage(Self.imageKey(reference))
    }

    public func buildImage(_ request: ImageBuild) async throws {
        try record("buildImage", [request.tag, request.contextDirectory])
        var info = Self.imageInfo(request.tag)
        info.labels = request.labels
        state.withLock { $0.images[Self.imageKey(request.tag)] = info }
    }

    public func listImages(labels: [String: String]) async throws -> [ImageInfo] {
        try record("listImages", Self.describe(labels))
        return state.withLock { state in
            state.images.keys.sorted().compactMap { state.images[$0] }.filter { info in
                labels.allSatisfy { key, value in info.labels[key].map { value.isEmpty || $0 == value } ?? false }
            }
        }
    }

    public func removeImage(_ reference: String) async throws {
        try record("removeImage", [reference])
        _ = state.withLock { $0.images.removeValue(forKey: Self.imageKey(reference)) }
    }

    // MARK: Networks

    public func createNetwork(_ spec: NetworkSpec) async throws {
        try record("createNetwork", [spec.name])
        try state.withLock { state in
            guard state.networks[spec.name] == nil else { throw error(.nameConflict, "A network named \(spec.name) already exists.") }
            state.networks[spec.name] = spec
        }
    }

    public func connect(network: String, container: ContainerRef, aliases: [String]) async throws {
        try record("connect", [network, container] + aliases)
        try state.withLock { state in
            guard state.networks[network] != nil else { throw error(.networkNotFound, "Network \(network) does not exist.") }
            let name = try Self.require(container, in: state)
            state.containers[name]?.networks[network] = Self.address(&state.nextIP)
        }
    }

    public func disconnect(network: String, container: ContainerRef) async throws {
        try record("disconnect", [network, container])
        try state.withLock { state in
            guard state.networks[network] != nil else { throw error(.networkNotFound, "Network \(network) does not exist.") }
            let name = try Self.require(container, in: state)
            state.containers[name]?.networks[network] = nil
        }
    }

    public func removeNetwork(_ name: String) async throws {
        try record("removeNetwork", [name])
        try state.withLock { state in
            if state.containers.values.contains(where: { $0.networks[name] != nil || $0.spec.network == name }) {
                throw error(.commandFailed, "Network \(name) has containers attached.")
            }
            state.networks[name] = nil
        }
    }

    public func listNetworks(labels: [String: String]) async throws -> [String] {
        try record("listNetworks", Self.describe(labels))
        return state.withLock { $0.networks.values.filter { Self.matches($0.labels, labels) }.map(\.name).sorted() }
    }

    // MARK: Volumes

    public func createVolume(_ spec: VolumeSpec) async throws {
        try record("createVolume", [spec.name])
        state.withLock { $0.volumes[spec.name] = spec }
    }

    public func removeVolume(_ name: String) async throws {
        try record("removeVolume", [name])
        _ = state.withLock { $0.volumes.removeValue(forKey: name) }
    }

    public func listVolumes(labels: [String: String]) async throws -> [String] {
        try record("listVolumes", Self.describe(labels))
        return state.withLock { $0.volumes.values.filter { Self.matches($0.labels, labels) }.map(\.name).sorted() }
    }

    // MARK: Containers

    public func createContainer(_ spec: ContainerSpec) async throws -> String {
        try record("createContainer", [spec.name, spec.image])
        let inSwarm: Set<String> = (spec.network.flatMap { name in swarmManager.withLock { $0 }?.network(name).map { _ in name } }).map { [$0] } ?? []
        return try state.withLock { state in
            guard state.containers[spec.name] == nil else {
                throw error(.nameConflict, "A container named \(spec.name) already exists.")
            }
            guard state.images[Self.imageKey(spec.image)] != nil else {
                throw error(.imageNotFound, "Image \(spec.image) is not present.")
            }
            if let memory = spec.memory, !Self.isValidMemory(memory) {
                throw error(.invalidArgument, "Invalid memory value \(memory).")
            }
            if let network = spec.network, state.networks[network] == nil, !inSwarm.contains(network) {
                throw error(.networkNotFound, "Network \(network) does not exist.")
            }
            let id = Self.hexID(spec.name)
            var container = Container(id: id, spec: spec)
            if let network = spec.network { container.networks[network] = "" }
            state.containers[spec.name] = container
            return id
        }
    }

    public func start(_ container: ContainerRef) async throws {
        try record("start", [container])
        try state.withLock { state in
            let name = try Self.require(container, in: state)
            guard var entry = state.containers[name] else { return }
            switch entry.state {
            case .running, .paused: return
            default:
                entry.state = .running
                entry.exitCode = 0
                entry.pid = Int32(state.nextPID); state.nextPID += 1
                entry.startedAt = Self.timestamp(&state.clock)
                for network in entry.networks.keys where entry.networks[network]?.isEmpty ?? true {
                    entry.networks[network] = Self.address(&state.nextIP)
                }
                entry.published = entry.spec.ports.map { port in
                    defer { state.nextHostPort += 1 }
                    return PublishedPort(containerPort: port.containerPort, proto: port.proto, hostIP: port.hostIP,
                                         hostPort: port.hostPort ?? state.nextHostPort)
                }
                state.containers[name] = entry
            }
        }
    }

    public func stop(_ container: ContainerRef, timeout: Double) async throws {
        try record("stop", [container, "\(timeout)"])
        try withState { state in
            let name = try Self.require(container, in: state)
            if [.running, .paused].contains(state.containers[name]?.state) { Self.end(name, code: stopExitCode, in: &state) }
        }
    }

    public func kill(_ container: ContainerRef, signal: String) async throws {
        try record("kill", [container, signal])
        try withState { state in
            let name = try Self.require(container, in: state)
            guard state.containers[name]?.state == .running else {
                throw error(.commandFailed, "Container \(container) is not running.")
            }
            Self.end(name, code: 128 + Self.signalNumber(signal), in: &state)
        }
    }

    public func pause(_ container: ContainerRef) async throws {
        try record("pause", [container])
        try transition(container, from: .running, to: .paused, otherwise: "is not running")
    }

    public func unpause(_ container: ContainerRef) async throws {
        try record("unpause", [container])
        try transition(container, from: .paused, to: .running, otherwise: "is not paused")
    }

    public func restart(_ container: ContainerRef, timeout: Double) async throws {
        try record("restart", [container, "\(timeout)"])
        try withState { state in
            let name = try Self.require(container, in: state)
            if [.running, .paused].contains(state.containers[name]?.state) { Self.end(name, code: stopExitCode, in: &state) }
            state.containers[name]?.state = .running
            state.containers[name]?.pid = Int32(state.nextPID); state.nextPID += 1
            state.containers[name]?.startedAt = Self.timestamp(&state.clock)
        }
    }

    public func remove(_ container: ContainerRef) async throws {
        try record("remove", [container])
        let elsewhere = try withState { state -> Bool in
            guard let name = Self.find(ref: container, in: state) else { return false }
            let elsewhere = state.removedElsewhere.remove(name) != nil
            Self.end(name, code: 137, in: &state)
            state.containers[name] = nil
            return elsewhere
        }
        if elsewhere { throw error(.removalInProgress, "Removal of container \(container) is already in progress.") }
    }

    /// Makes the next `remove` of `container` fail as when another process is removing it (Docker:
    /// "removal of container ... is already in progress"); the container is gone right after.
    public func removeElsewhere(_ container: ContainerRef) {
        state.withLock { state in
            if let name = Self.find(ref: container, in: state) { state.removedElsewhere.insert(name) }
        }
    }

    public func inspect(_ container: ContainerRef) async throws -> ContainerInfo {
        try record("inspect", [container])
        return try state.withLock { state in
            let name = try Self.require(container, in: state)
            let entry = state.containers[name]!
            return ContainerInfo(id: entry.id, name: name, image: entry.spec.image,
                                 imageID: state.images[Self.imageKey(entry.spec.image)]?.id ?? "",
                                 state: entry.state, exitCode: entry.exitCode, pid: entry.pid, startedAt: entry.startedAt,
                                 ipAddresses: entry.networks.filter { !$0.value.isEmpty }, labels: entry.spec.labels,
                                 publishedPorts: [.running, .paused].contains(entry.state) ? entry.published : [])
        }
    }

    public func listContainers(labels: [String: String]) async throws -> [ContainerSummary] {
        try record("listContainers", Self.describe(labels))
        return state.withLock { state in
            state.containers.values.filter { Self.matches($0.spec.labels, labels) }
                .map { ContainerSummary(id: $0.id, name: $0.spec.name, state: $0.state, labels: $0.spec.labels) }
                .sorted { $0.name < $1.name }
        }
    }

    // MARK: Processes, files, logs

    public func exec(_ container: ContainerRef, _ request: ExecRequest) async throws -> ExecResult {
        try record("exec", [container] + request.argv)
        let response = try state.withLock { state -> ExecResponse in
            let name = try Self.require(container, in: state)
            guard state.containers[name]?.state == .running else {
                throw error(.execFailed, "Cannot exec in container \(container): it is not running.")
            }
            let script = state.execScripts.first { script in
                request.argv.starts(with: script.prefix) && (script.container == nil || script.container == name)
            }
            return script?.response ?? .result(code: 0)
        }
        switch response {
        case .result(let code, let stdout, let stderr):
            return ExecResult(code: code, stdout: stdout, stderr: stderr, duration: 0)
        case .error(let kind):
            throw error(kind, "Scripted \(kind) for `\(request.argv.joined(separator: " "))` in \(container).")
        }
    }

    public func copyIn(_ container: ContainerRef, content: [UInt8], to path: String) async throws {
        try record("copyIn", [container, path])
        try state.withLock { state in
            let name = try Self.require(container, in: state)
            state.files[name + ":" + path] = content
        }
    }

    public func copyOut(_ container: ContainerRef, from path: String) async throws -> [UInt8] {
        try record("copyOut", [container, path])
        return try state.withLock { state in
            let name = try Self.require(container, in: state)
            guard let content = state.files[name + ":" + path] else {
                throw error(.commandFailed, "No file \(path) in container \(container).")
            }
            return content
        }
    }

    public func logs(_ container: ContainerRef, since: String?, follow: Bool) -> AsyncThrowingStream<LogLine, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: LogLine.self, throwing: (any Error).self)
        do { try record("logs", [container] + (since.map { ["since", $0] } ?? []) + (follow ? ["follow"] : [])) } catch {
            continuation.finish(throwing: error)
            return stream
        }
        let token: (String, Int)? = state.withLock { state in
            guard let name = Self.find(ref: container, in: state) else {
                continuation.finish(throwing: error(.containerNotFound, "Container \(container) does not exist."))
                return nil
            }
            for line in state.containers[name]!.logs where since.map({ line.timestamp > $0 }) ?? true {
                continuation.yield(line)
            }
            guard follow, [.running, .paused].contains(state.containers[name]!.state) else {
                continuation.finish()
                return nil
            }
            let id = state.nextFollower
            state.nextFollower += 1
            state.followers[name, default: [:]][id] = continuation
            return (name, id)
        }
        if let (name, id) = token {
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { _ = $0.followers[name]?.removeValue(forKey: id) }
            }
        }
        return stream
    }

    /// How many `logs(follow: true)` streams are still open, for tests that check they end.
    public var openFollowers: Int { state.withLock { $0.followers.values.reduce(0) { $0 + $1.count } } }

    // MARK: Helpers

    /// `state.withLock`, then finishes the log followers of containers that ended meanwhile.
    private func withState<T: Sendable>(_ body: (inout State) throws -> T) throws -> T {
        let (result, ended) = state.withLock { state in
            let result = Result { try body(&state) }
            defer { state.endedFollowers = [] }
            return (result, state.endedFollowers)
        }
        for follower in ended { follower.finish() }
        return try result.get()
    }

    private func record(_ method: String, _ arguments: [String] = []) throws {
        let failure: RuntimeError.Kind? = state.withLock { state in
            state.calls.append(Call(method, arguments))
            return state.failures.removeValue(forKey: method)
        }
        if let failure { throw error(failure, "Scripted failure of \(method).") }
    }

    private func transition(_ container: ContainerRef, from: ContainerState, to: ContainerState, otherwise problem: String) throws {
        try state.withLock { state in
            let name = try Self.require(container, in: state)
            guard state.containers[name]?.state == from else {
                throw error(.commandFailed, "Container \(container) \(problem).")
            }
            state.containers[name]?.state = to
        }
    }

    private func error(_ kind: RuntimeError.Kind, _ summary: String) -> RuntimeError {
        RuntimeError(kind, engine: engine, summary: summary, command: ["fake"], hint: "This is the fake runtime.")
    }

    private static func end(_ name: String, code: Int32, in state: inout State) {
        state.containers[name]?.state = .exited
        state.containers[name]?.exitCode = code
        state.containers[name]?.pid = 0
        state.endedFollowers += state.followers.removeValue(forKey: name)?.values.map { $0 } ?? []
    }

    private static func find(_ ref: ContainerRef, in state: State) -> Container? {
        find(ref: ref, in: state).flatMap { state.containers[$0] }
    }

    private static func find(ref: ContainerRef, in state: State) -> String? {
        if state.containers[ref] != nil { return ref }
        return state.containers.first { $0.value.id == ref || (ref.count >= 12 && $0.value.id.hasPrefix(ref)) }?.key
    }

    private static func require(_ ref: ContainerRef, in state: State) throws -> String {
        guard let name = find(ref: ref, in: state) else {
            throw RuntimeError(.containerNotFound, engine: nil, summary: "Container \(ref) does not exist.", command: ["fake"])
        }
        return name
    }

    private static func matches(_ labels: [String: String], _ wanted: [String: String]) -> Bool {
        wanted.allSatisfy { key, value in labels[key].map { value.isEmpty || $0 == value } ?? false }
    }

    private static func describe(_ labels: [String: String]) -> [String] {
        labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    /// The fake keeps images under their Docker spelling; `localhost/x` and `x` are one image.
    private static func imageKey(_ reference: String) -> String { ImageReference.strippingLocalhost(reference) }

    private static func imageInfo(_ reference: String) -> ImageInfo {
        ImageInfo(id: "sha256:" + hexID(reference) + hexID(reference + "#"), repoDigests: [], tags: [imageKey(reference)])
    }

    /// A stable 32-hex-digit id derived from a name (FNV-1a, twice).
    private static func hexID(_ name: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var parts: [String] = []
        for round in 0..<2 {
            for byte in (name + "\(round)").utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            let hex = String(hash, radix: 16)
            parts.append(String(repeating: "0", count: 16 - hex.count) + hex)
        }
        return parts.joined()
    }

    private static func address(_ next: inout Int) -> String {
        defer { next += 1 }
        return "10.99.\(next / 250).\(next % 250 + 2)"
    }

    /// Increasing RFC 3339 timestamps with nanoseconds, like the engines print.
    private static func timestamp(_ clock: inout Int) -> String {
        clock += 1
        let seconds = clock / 1000, fraction = clock % 1000
        return String(format: "2026-01-01T00:%02d:%02d.%09dZ", seconds / 60 % 60, seconds % 60, fraction * 1000)
    }

    private static func isValidMemory(_ value: String) -> Bool {
        let lower = value.lowercased()
        let digits = lower.last.map { "bkmg".contains($0) } == true ? String(lower.dropLast()) : lower
        return !digits.isEmpty && digits.allSatisfy(\.isNumber)
    }

    private static func signalNumber(_ signal: String) -> Int32 {
        let name = signal.uppercased().replacingOccurrences(of: "SIG", with: "")
        if let number = Int32(name) { return number }
        let numbers: [String: Int32] = ["HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15, "STOP": 19]
        return numbers[name] ?? 15
    }
}
