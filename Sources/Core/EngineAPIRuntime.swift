import Foundation

/// `ContainerRuntime` through the engine's API on its local unix socket where that is measurably
/// faster than the command-line client, and through the client (`CLIContainerRuntime`) for
/// everything else. What goes where, and the figures behind it, are in docs/architecture.md
/// ("The Engine API runtime"):
/// - exec, on both engines (a client process costs 12–36 ms and Podman's much more under load);
/// - container inspect, on both engines;
/// - container create, start and remove, on Podman (each `podman` process initialises its
///   storage and takes locks: 0.2–1 s under load, against a few ms through its service).
///
/// The socket is looked at once, off the critical path (`EngineAPISocket`); when it does not
/// answer, each call goes through the client as if this type were not there (with
/// CCM_LUA_ENGINE_API=on it fails instead). Engine JSON and error texts stay inside: failures are
/// the same `RuntimeError` kinds, with the same summaries and hints, as the client's.
public struct EngineAPIRuntime: ContainerRuntime {
    /// The client, for what does not go through the API and whenever the API is not there.
    public let cli: CLIContainerRuntime
    public let socket: EngineAPISocket
    /// CCM_LUA_ENGINE_API=on: no falling back to the client when the socket does not answer.
    public let required: Bool

    public init(cli: CLIContainerRuntime, socket: EngineAPISocket, required: Bool = false) {
        self.cli = cli; self.socket = socket; self.required = required
    }

    public var engine: Engine { cli.engine }
    public var location: EngineLocation { cli.location }

    /// The runtime CCM_LUA_ENGINE_API and the client's settings ask for: the client alone, or
    /// this type around it. Starts looking at the socket at once, without waiting for the answer.
    public static func choose(cli: CLIContainerRuntime, environment: [String: String]) throws -> any ContainerRuntime {
        let mode = try EngineAPIMode.from(environment)
        if mode == .off { return cli }
        let merged = ProcessInfo.processInfo.environment.merging(cli.environment) { $1 }
        switch plan(for: cli) {
        case .client(let reason):
            if mode == .on { throw notAvailable(cli.engine, reason: reason) }
            return cli
        case .socket(let path, let startsService):
            let socket = EngineAPISocket.shared(engine: cli.engine, path: path, startsService: startsService,
                                         executable: EngineDiscovery.resolve(cli.executable, path: merged["PATH"]) ?? cli.executable,
                                         environment: cli.environment)
            Task { _ = await socket.status() }
            return EngineAPIRuntime(cli: cli, socket: socket, required: mode == .on)
        }
    }

    /// Where the client's settings lead (the process's environment, then the client's own).
    static func plan(for cli: CLIContainerRuntime) -> EngineAPIPlan {
        let merged = ProcessInfo.processInfo.environment.merging(cli.environment) { $1 }
        return EngineAPIPlan.of(engine: cli.engine, executable: cli.executable, globalArguments: cli.globalArguments, environment: merged)
    }

    static func notAvailable(_ engine: Engine, reason: String) -> RuntimeError {
        RuntimeError(.daemonNotRunning, engine: engine,
                     summary: "\(EngineAPIMode.variable)=on, but \(engine.rawValue)'s API cannot be used here: \(reason).",
                     hint: engine == .podman
                        ? "Let ccm-lua start `podman system service` (it needs a local, rootful or rootless Podman), or set \(EngineAPIMode.variable)=auto to use the client where the API is not there."
                        : "Start dockerd with its unix socket (or point DOCKER_HOST at it as unix://PATH), or set \(EngineAPIMode.variable)=auto to use the client where the API is not there.")
    }

    /// The API when it answers; nil when the client is to be used. With `required`, its absence is an error.
    func api() async throws -> EngineAPICaller? {
        let (status, generation) = await socket.statusAndGeneration()
        switch status {
        case .ready: return EngineAPICaller(engine: engine, socket: socket, generation: generation)
        case .unavailable(let reason):
            if required { throw Self.notAvailable(engine, reason: reason) }
            return nil
        }
    }

    /// Sends one request; when the socket refuses the connection (Podman's service ended after
    /// its idle time), looks again once and sends it again; when it still cannot, returns nil so
    /// the caller goes through the client. Nothing was sent when a connection is refused.
    func call(_ method: String, _ path: String, body: [UInt8]? = nil, timeout: Double = Defaults.engineAPICall,
              subject: EngineErrorClassifier.Subject) async throws -> EngineAPICaller.Answer? {
        guard var caller = try await api() else { return nil }
        for attempt in 1...2 {
            do {
                return try await caller.send(method, path, body: body, timeout: timeout)
            } catch let failure as HTTPClient.Failure where failure.reason == .refused && attempt == 1 {
                guard case .ready = await socket.lookAgain(after: caller.generation), let again = try await api() else {
                    if required { throw Self.notAvailable(engine, reason: failure.message) }
                    return nil
                }
                caller = again
            } catch let failure as HTTPClient.Failure {
                throw caller.transportError(failure, method: method, path: path)
            }
        }
        if required { throw Self.notAvailable(engine, reason: "\(socket.path) refused the connection") }
        return nil
    }

    // MARK: Through the client

    public func version() async throws -> EngineVersion { try await cli.version() }
    public func imageExists(_ reference: String) async throws -> Bool { try await cli.imageExists(reference) }
    public func inspectImage(_ reference: String) async throws -> ImageInfo { try await cli.inspectImage(reference) }
    public func pullImage(_ reference: String) async throws { try await cli.pullImage(reference) }
    public func pullImage(_ reference: String, progress: (@Sendable (String) -> Void)?) async throws {
        try await cli.pullImage(reference, progress: progress)
    }
    public func buildImage(_ request: ImageBuild) async throws { try await cli.buildImage(request) }
    public func listImages(labels: [String: String]) async throws -> [ImageInfo] { try await cli.listImages(labels: labels) }
    public func removeImage(_ reference: String) async throws { try await cli.removeImage(reference) }
    public func createNetwork(_ spec: NetworkSpec) async throws { try await cli.createNetwork(spec) }
    public func connect(network: String, container: ContainerRef, aliases: [String]) async throws {
        try await cli.connect(network: network, container: container, aliases: aliases)
    }
    public func disconnect(network: String, container: ContainerRef) async throws {
        try await cli.disconnect(network: network, container: container)
    }
    public func removeNetwork(_ name: String) async throws { try await cli.removeNetwork(name) }
    public func listNetworks(labels: [String: String]) async throws -> [String] { try await cli.listNetworks(labels: labels) }
    public func createVolume(_ spec: VolumeSpec) async throws { try await cli.createVolume(spec) }
    public func removeVolume(_ name: String) async throws { try await cli.removeVolume(name) }
    public func listVolumes(labels: [String: String]) async throws -> [String] { try await cli.listVolumes(labels: labels) }
    public func stop(_ container: ContainerRef, timeout: Double) async throws { try await cli.stop(container, timeout: timeout) }
    public func kill(_ container: ContainerRef, signal: String) async throws { try await cli.kill(container, signal: signal) }
    public func pause(_ container: ContainerRef) async throws { try await cli.pause(container) }
    public func unpause(_ container: ContainerRef) async throws { try await cli.unpause(container) }
    public func restart(_ container: ContainerRef, timeout: Double) async throws { try await cli.restart(container, timeout: timeout) }
    public func listContainers(labels: [String: String]) async throws -> [ContainerSummary] { try await cli.listContainers(labels: labels) }
    public func copyIn(_ container: ContainerRef, content: [UInt8], to path: String) async throws {
        try await cli.copyIn(container, content: content, to: path)
    }
    public func copyOut(_ container: ContainerRef, from path: String) async throws -> [UInt8] { try await cli.copyOut(container, from: path) }
    public func logs(_ container: ContainerRef, since: String?, follow: Bool) -> AsyncThrowingStream<LogLine, any Error> {
        cli.logs(container, since: since, follow: follow)
    }
}

extension ContainerRuntime {
    /// The command-line client behind this runtime, for what only the client does (an attached
    /// terminal for `ccm-lua exec`, doctor's look at Podman's network set-up).
    public var commandLineClient: CLIContainerRuntime? {
        (self as? CLIContainerRuntime) ?? (self as? EngineAPIRuntime)?.cli
    }
}

/// Requests to one engine's API socket, and the engine's answers in ccm-lua's terms.
struct EngineAPICaller: Sendable {
    struct Answer: Sendable {
        var status: Int
        var body: [UInt8]
    }

    let engine: Engine
    let socket: EngineAPISocket
    /// Which look at the socket this caller came from (see `EngineAPISocket.lookAgain`).
    let generation: Int

    /// Versioned, so the answers keep the shape this code reads whatever the engine's own version.
    static func versioned(_ path: String) -> String { "/v\(EngineAPIPlan.apiVersion)" + path }

    /// A container name or id as one path segment.
    static func segment(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? value
    }

    func send(_ method: String, _ path: String, body: [UInt8]?, timeout: Double) async throws -> Answer {
        var headers: [(name: String, value: String)] = []
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let response = try await socket.http.execute(HTTPClient.Request(
            method: method, url: "http://engine" + Self.versioned(path), headers: headers, body: body,
            timeout: timeout, unixSocket: socket.path))
        return Answer(status: response.status, body: response.body)
    }

    /// What a user can paste to send the same request.
    func command(_ method: String, _ path: String) -> [String] {
        ["curl", "--unix-socket", socket.path, "-X", method, "http://localhost" + Self.versioned(path)]
    }

    /// An error answer (4xx/5xx) as the `RuntimeError` the client would have raised for the same
    /// failure: the engine's message is the text the client prints, so one classifier serves both.
    static func error(engine: Engine, status: Int, body: [UInt8], command: [String],
                      subject: EngineErrorClassifier.Subject) -> RuntimeError {
        let message = Self.message(body)
        // The clients print the daemon's message behind these words; the classifier knows them.
        let printed = engine == .docker ? "Error response from daemon: \(message)" : "Error: \(message)"
        var error = EngineErrorClassifier.classify(engine: engine, command: command, exitCode: engine == .docker ? 1 : 125,
                                                   stderr: printed, subject: subject)
        error.exitCode = nil
        error.stderr = "HTTP \(status): \(message)"
        return error
    }

    /// `{"message": "..."}` (both engines; Podman adds "cause" and "response"), else the text.
    static func message(_ body: [UInt8]) -> String {
        struct Message: Decodable { var message: String }
        if let decoded = try? JSONDecoder().decode(Message.self, from: Data(body)) { return decoded.message }
        return String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func error(_ answer: Answer, _ method: String, _ path: String, subject: EngineErrorClassifier.Subject) -> RuntimeError {
        Self.error(engine: engine, status: answer.status, body: answer.body, command: command(method, path), subject: subject)
    }

    /// The exchange did not complete (timeout, connection reset): the engine may be overloaded or gone.
    func transportError(_ failure: HTTPClient.Failure, method: String, path: String) -> RuntimeError {
        let kind: RuntimeError.Kind = failure.reason == .timeout ? .timeout : .daemonNotRunning
        return RuntimeError(kind, engine: engine, summary: "\(engine.rawValue)'s API did not answer \(method) \(path): \(failure.message).",
                            command: command(method, path),
                            hint: "Check the engine with `ccm-lua doctor`; set \(EngineAPIMode.variable)=off to go through the \(engine.rawValue) client instead.")
    }

    static func json<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return [UInt8]((try? encoder.encode(value)) ?? Data("{}".utf8))
    }
}

extension EngineAPIRuntime {
    /// What goes through the API on this engine, for messages and docs.
    var throughAPI: String {
        lifecycleThroughAPI ? "exec, container create, start, inspect and remove" : "exec and container inspect"
    }

    /// One line for `ccm-lua doctor`: whether the API is used, for what, and why (not).
    public static func describe(_ runtime: any ContainerRuntime, environment: [String: String]) async -> String {
        let mode = (try? EngineAPIMode.from(environment)) ?? .auto
        guard let api = runtime as? EngineAPIRuntime else {
            guard let cli = runtime.commandLineClient else { return "engine API: not used (this runtime has no client)" }
            if mode == .off { return "engine API: not used (\(EngineAPIMode.variable)=off); everything goes through the client" }
            if case .client(let reason) = plan(for: cli) {
                return "engine API: not used: \(reason); everything goes through the client"
            }
            return "engine API: not used; everything goes through the client"
        }
        switch await api.socket.status() {
        case .ready(let version, let serviceStart):
            let started = serviceStart.map { String(format: ", `podman system service` started here in %.2f s", $0) } ?? ""
            return "engine API: \(api.socket.path) answers (API \(version)\(started)): \(api.throughAPI) go through it, the rest through the client; \(EngineAPIMode.variable)=off turns it off"
        case .unavailable(let reason):
            return mode == .on
                ? "engine API: required by \(EngineAPIMode.variable)=on but not usable: \(reason)"
                : "engine API: not used: \(reason); everything goes through the client"
        }
    }

    /// For CCM_LUA_ENGINE_API=on: fails when the API of the chosen engine is not usable.
    public static func requireAPI(_ runtime: any ContainerRuntime, environment: [String: String]) async throws {
        guard let api = runtime as? EngineAPIRuntime else {
            if let cli = runtime.commandLineClient, case .client(let reason) = plan(for: cli) {
                throw notAvailable(runtime.engine, reason: reason)
            }
            throw notAvailable(runtime.engine, reason: "this runtime is not driven through an engine client")
        }
        if case .unavailable(let reason) = await api.socket.status() { throw notAvailable(runtime.engine, reason: reason) }
    }
}
