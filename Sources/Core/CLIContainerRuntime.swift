import Foundation
import Synchronization

/// `ContainerRuntime` over the `docker` or `podman` command-line client.
///
/// Each call runs one client process through `ProcessRunner` (12–36 ms of overhead here), which buys
/// both engines with one code path, Podman without its service socket, and remote engines through
/// DOCKER_HOST, contexts or `podman --url` at no cost. Argument lists come from `CLIArguments`,
/// output is read by `CLIOutput`, and failures are classified by `EngineErrorClassifier`: this type
/// only strings them together and decides what counts as success.
public struct CLIContainerRuntime: ContainerRuntime {
    public let engine: Engine
    /// The client program: a name looked up on PATH (`docker`) or a path.
    public let executable: String
    /// Added to the client's environment on every call (e.g. DOCKER_HOST, CONTAINER_HOST).
    public let environment: [String: String]
    /// Put before every subcommand (e.g. `["--remote", "--url", "unix:///run/podman.sock"]`).
    public let globalArguments: [String]

    let arguments: CLIArguments
    let imageNames = ImageNameCache()
    let logPaths = LogPathLookup()

    public init(engine: Engine, executable: String? = nil, environment: [String: String] = [:],
                globalArguments: [String] = []) {
        self.engine = engine
        self.executable = executable ?? engine.rawValue
        self.environment = environment
        self.globalArguments = globalArguments
        self.arguments = CLIArguments(engine: engine)
    }

    public var location: EngineLocation {
        EngineLocation.of(engine: engine, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                          globalArguments: globalArguments, executable: executable)
    }

    /// The full command line for a subcommand, as it is run and as errors show it.
    public func commandLine(_ subcommand: [String]) -> [String] {
        [executable] + globalArguments + subcommand
    }

    /// Runs one client command. A non-zero exit becomes a classified `RuntimeError` unless
    /// `allowFailure` is set; a client that cannot be started is `.runtimeNotFound`.
    @discardableResult
    func run(_ subcommand: [String], subject: EngineErrorClassifier.Subject, stdin: [UInt8]? = nil,
             timeout: Double? = nil, allowFailure: Bool = false) async throws -> ProcessRunner.Output {
        let argv = commandLine(subcommand)
        let output: ProcessRunner.Output
        do {
            output = try await ProcessRunner.run(argv, environment: environment, stdin: stdin, timeout: timeout)
        } catch let failure as ProcessRunner.LaunchFailed {
            throw EngineErrorClassifier.runtimeNotFound(engine: engine, command: argv, reason: failure.reason)
        } catch let timedOut as ProcessRunner.TimedOut {
            throw RuntimeError(.timeout, engine: engine,
                               summary: "`\(engine.rawValue) \(subcommand.first ?? "")` did not finish within \(timedOut.seconds) s and was stopped.",
                               command: argv, hint: "The engine may be overloaded or hung; check it with `ccm-lua doctor`.")
        } catch let tooLarge as ProcessRunner.OutputLimitExceeded {
            throw RuntimeError(.commandFailed, engine: engine,
                               summary: "`\(engine.rawValue) \(subcommand.first ?? "")` printed more than \(tooLarge.limit / 1_048_576) MiB and was stopped.",
                               command: argv, hint: "Ask for less output (e.g. logs with `since`), or write it to a file inside the container and copy that out.")
        }
        if output.code != 0 && !allowFailure {
            throw classify(output, argv: argv, subject: subject)
        }
        return output
    }

    func classify(_ output: ProcessRunner.Output, argv: [String], subject: EngineErrorClassifier.Subject) -> RuntimeError {
        EngineErrorClassifier.classify(engine: engine, command: argv, exitCode: output.code, stderr: output.stderrText,
                                       stdout: output.stdoutText, subject: subject)
    }

    // MARK: Engine

    public func version() async throws -> EngineVersion {
        let probe = await probeVersions()
        if let error = probe.error { throw error }
        return EngineVersion(client: probe.client ?? "", server: probe.server ?? "")
    }

    public func swarm() async throws -> SwarmMembership {
        guard engine == .docker else { return .notMember }
        let output = try await run(arguments.swarm(), subject: .engine, timeout: 30)
        do { return try CLIOutput.swarm(output.stdout) } catch {
            throw RuntimeError(.commandFailed, engine: engine, summary: "Could not read the Swarm part of `docker info`: \(error)",
                               command: commandLine(arguments.swarm()), stderr: output.stderrText)
        }
    }

    /// Client and engine versions, as far as they answered, and why not. Unlike `version()` this
    /// keeps the client version when the engine is down, which `ccm-lua doctor` shows.
    public func probeVersions() async -> (client: String?, server: String?, error: RuntimeError?) {
        let argv = commandLine(arguments.version())
        let output: ProcessRunner.Output
        do {
            output = try await run(arguments.version(), subject: .engine, timeout: 30, allowFailure: true)
        } catch {
            return (nil, nil, error as? RuntimeError)
        }
        // Docker prints the client part and exits 1 when the daemon is down; the stderr says why.
        let parsed = try? CLIOutput.version(output.stdout)
        if output.code != 0 || (engine == .docker && parsed?.server == nil) {
            var error = classify(output, argv: argv, subject: .engine)
            if parsed != nil && error.kind == .commandFailed { error.kind = .daemonNotRunning }
            return (parsed?.client, nil, error)
        }
        guard let parsed else {
            return (nil, nil, RuntimeError(.commandFailed, engine: engine, summary: "Could not read the output of `\(engine.rawValue) version`.",
                                           command: argv, exitCode: output.code, stderr: output.stderrText,
                                           hint: "Check that `\(executable)` is really the \(engine.rawValue) client."))
        }
        // Local Podman is client and engine in one process: its engine version is its own.
        return (parsed.client, parsed.server ?? parsed.client, nil)
    }

    // MARK: Images

    public func imageExists(_ reference: String) async throws -> Bool {
        (try await findImage(reference)) != nil
    }

    public func inspectImage(_ reference: String) async throws -> ImageInfo {
        switch try await lookUpImage(reference) {
        case .found(_, let info): return info
        case .missing(let error): throw error
        }
    }

    public func pullImage(_ reference: String) async throws {
        try await pullImage(reference, progress: nil)
    }

    enum ImageLookup {
        case found(name: String, info: ImageInfo)
        /// The engine's own "not found" for the last spelling tried.
        case missing(RuntimeError)
    }

    /// Looks the image up under each spelling the engine may know it by (see
    /// `ImageReference.localCandidates`) and remembers which one answered.
    func lookUpImage(_ reference: String) async throws -> ImageLookup {
        let candidates = imageNames.known(reference).map { [$0] } ?? ImageReference.localCandidates(reference, engine: engine)
        var notFound: RuntimeError?
        for candidate in candidates {
            let output = try await run(arguments.inspectImage(candidate), subject: .image(candidate), allowFailure: true)
            if output.code == 0 {
                imageNames.remember(reference, as: candidate)
                return .found(name: candidate, info: try CLIOutput.image(output.stdout))
            }
            let error = classify(output, argv: commandLine(arguments.inspectImage(candidate)), subject: .image(reference))
            guard error.kind == .imageNotFound else { throw error }
            notFound = error
        }
        return .missing(notFound!)
    }

    func findImage(_ reference: String) async throws -> (name: String, info: ImageInfo)? {
        if case .found(let name, let info) = try await lookUpImage(reference) { return (name, info) }
        return nil
    }

    /// The name to create a container from: the local spelling that exists, else the reference
    /// as the engine would write it (so the engine's own "no such image" names it).
    func localImageName(_ reference: String) async throws -> String {
        if engine == .docker { return ImageReference.strippingLocalhost(reference) }
        if let known = imageNames.known(reference) { return known }
        return try await findImage(reference)?.name ?? reference
    }

    // MARK: Networks

    /// Podman picks a free subnet by reading the host's interfaces; one that disappears meanwhile
    /// (another network being removed) fails the call with "route ip+net: no such network
    /// interface". That is a race, not a problem with the request: it is tried again, a few times.
    public func createNetwork(_ spec: NetworkSpec) async throws {
        var attempt = 1
        while true {
            do {
                try await run(arguments.createNetwork(spec), subject: .network(spec.name))
                return
            } catch let error as RuntimeError where engine == .podman && attempt < 4
                        && error.stderr.contains("no such network interface") {
                attempt += 1
                try await Task.sleep(for: .milliseconds(50 * attempt))
            }
        }
    }

    public func connect(network: String, container: ContainerRef, aliases: [String]) async throws {
        try await run(arguments.connect(network: network, container: container, aliases: aliases), subject: .network(network))
    }

    public func disconnect(network: String, container: ContainerRef) async throws {
        try await run(arguments.disconnect(network: network, container: container), subject: .network(network))
    }

    public func removeNetwork(_ name: String) async throws {
        do {
            try await run(arguments.removeNetwork(name), subject: .network(name))
        } catch let error as RuntimeError where error.kind == .networkNotFound {
            return
        }
    }

    public func listNetworks(labels: [String: String]) async throws -> [String] {
        let output = try await run(arguments.listNetworks(labels: labels), subject: .engine)
        return try CLIOutput.names(output.stdout, what: "network list")
    }

    // MARK: Volumes

    public func createVolume(_ spec: VolumeSpec) async throws {
        try await run(arguments.createVolume(spec), subject: .volume(spec.name))
    }

    public func removeVolume(_ name: String) async throws {
        let output = try await run(arguments.removeVolume(name), subject: .volume(name), allowFailure: true)
        guard output.code != 0 else { return }
        let lower = output.stderrText.lowercased()
        if lower.contains("no such volume") || lower.contains("no volume with name") { return }
        throw classify(output, argv: commandLine(arguments.removeVolume(name)), subject: .volume(name))
    }

    public func listVolumes(labels: [String: String]) async throws -> [String] {
        let output = try await run(arguments.listVolumes(labels: labels), subject: .engine)
        return try CLIOutput.names(output.stdout, what: "volume list")
    }
}

/// Which local spelling of an image name the engine answered to (`ccm-lua-test/etcd:3.4` is
/// `localhost/ccm-lua-test/etcd:3.4` on Podman), so the lookup costs one call per image per process.
final class ImageNameCache: Sendable {
    private let names = Mutex<[String: String]>([:])
    func known(_ reference: String) -> String? { names.withLock { $0[reference] } }
    func remember(_ reference: String, as name: String) { names.withLock { $0[reference] = name } }
    func forget(_ reference: String) { _ = names.withLock { $0.removeValue(forKey: reference) } }
}

/// Gathers the log-path lookups of followers that begin at about the same time into one engine
/// call: the first runs at once; those that arrive while it runs go together in the next. No
/// timer: a batch is whatever queued up meanwhile (12 followers of a cluster: 2 calls, not 12).
final class LogPathLookup: Sendable {
    private struct State {
        var waiting: [(container: ContainerRef, continuation: CheckedContinuation<String?, Never>)] = []
        var busy = false
    }
    private let state = Mutex(State())

    func path(of container: ContainerRef,
              fetch: @escaping @Sendable ([ContainerRef]) async -> [ContainerRef: String]) async -> String? {
        await withCheckedContinuation { continuation in
            let lead = state.withLock { s -> Bool in
                s.waiting.append((container, continuation))
                defer { s.busy = true }
                return !s.busy
            }
            guard lead else { return }
            Task {
                while true {
                    let batch = state.withLock { s -> [(container: ContainerRef, continuation: CheckedContinuation<String?, Never>)] in
                        defer { s.waiting = [] }
                        if s.waiting.isEmpty { s.busy = false }
                        return s.waiting
                    }
                    guard !batch.isEmpty else { return }
                    var unique: [ContainerRef] = []
                    for item in batch where !unique.contains(item.container) { unique.append(item.container) }
                    let found = await fetch(unique)
                    for item in batch { item.continuation.resume(returning: found[item.container]) }
                }
            }
        }
    }
}
