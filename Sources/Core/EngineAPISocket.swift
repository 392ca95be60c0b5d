import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Whether ccm-lua talks to an engine through its API on a unix socket (`EngineAPIRuntime`) or
/// only through its command-line client, and where that socket is.
///
/// `CCM_LUA_ENGINE_API=auto` (the default) uses the API when the engine's own local socket answers
/// with API 1.41 or newer, and the client otherwise: a remote engine (DOCKER_HOST=tcp:// or ssh://,
/// a Docker context, CONTAINER_HOST, `podman --remote`), no socket, an older engine. `on` insists
/// (no socket is an error saying what to do), `off` never uses it.
public enum EngineAPIMode: String, Sendable, CaseIterable {
    case auto, on, off

    public static let variable = "CCM_LUA_ENGINE_API"

    public static func from(_ environment: [String: String]) throws -> EngineAPIMode {
        guard let raw = environment[variable]?.trimmingCharacters(in: .whitespaces).lowercased(), !raw.isEmpty else { return .auto }
        guard let mode = EngineAPIMode(rawValue: raw) else {
            throw RuntimeError(.invalidArgument, engine: nil, summary: "\(variable)=\(raw) is neither auto, on nor off.",
                               hint: "Set \(variable) to auto (use the engine's API where its socket answers), on or off, or unset it.")
        }
        return mode
    }
}

/// Where an engine's API would be answered, decided from the client's settings alone (no call).
public enum EngineAPIPlan: Sendable, Equatable {
    /// `startsService`: Podman's socket is served by `podman system service`, started on demand.
    case socket(path: String, startsService: Bool)
    /// The client is steered somewhere the socket does not lead (the reason says where).
    case client(reason: String)

    /// The minimum API version spoken: Docker 20.10's, which Podman 4's compatible API also serves.
    public static let apiVersion = "1.41"

    public static func of(engine: Engine, executable: String, globalArguments: [String],
                          environment: [String: String], userID: uid_t = geteuid()) -> EngineAPIPlan {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if !globalArguments.isEmpty {
            return .client(reason: "the client is given global arguments (\(globalArguments.joined(separator: " ")))")
        }
        switch engine {
        case .docker:
            if let host = value("DOCKER_HOST") {
                guard host.hasPrefix("unix://") else { return .client(reason: "DOCKER_HOST=\(host) is not a local socket") }
                return .socket(path: String(host.dropFirst("unix://".count)), startsService: false)
            }
            if let context = value("DOCKER_CONTEXT"), context != "default" {
                return .client(reason: "DOCKER_CONTEXT=\(context) chooses a context")
            }
            if let context = currentDockerContext(environment), context != "default" {
                return .client(reason: "the Docker context '\(context)' is in use (docker context use)")
            }
            return .socket(path: "/var/run/docker.sock", startsService: false)
        case .podman:
            if (executable as NSString).lastPathComponent.hasSuffix("-remote") {
                return .client(reason: "\(executable) is a remote client")
            }
            for name in ["CONTAINER_HOST", "CONTAINER_CONNECTION"] {
                if let host = value(name) { return .client(reason: "\(name)=\(host) steers the client") }
            }
            if userID == 0 { return .socket(path: "/run/podman/podman.sock", startsService: true) }
            guard let runtimeDir = value("XDG_RUNTIME_DIR") else {
                return .client(reason: "rootless Podman without XDG_RUNTIME_DIR has no socket path")
            }
            return .socket(path: runtimeDir + "/podman/podman.sock", startsService: true)
        }
    }

    /// `currentContext` in the Docker client's config.json, where `docker context use` writes it.
    static func currentDockerContext(_ environment: [String: String]) -> String? {
        let directory = environment["DOCKER_CONFIG"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.docker")
        guard let data = FileManager.default.contents(atPath: directory + "/config.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["currentContext"] as? String
    }
}

/// The engine's API socket as found at run time: asked once whether it answers (Podman's service
/// started first where it is not running), and asked again after a connection was refused (a
/// service started here ends after `Defaults.podmanServiceIdle` without requests).
public final class EngineAPISocket: Sendable {
    public enum Status: Sendable, Equatable {
        /// `serviceStart`: seconds it took to start `podman system service` here, when it was started.
        case ready(apiVersion: String, serviceStart: Double?)
        case unavailable(reason: String)
    }

    public let engine: Engine
    public let path: String
    let startsService: Bool
    /// Runs `podman system service` (with the client's environment).
    let executable: String
    let environment: [String: String]
    let http = HTTPClient()
    /// One per socket per process: every runtime for the same socket shares what was found (and
    /// one start of the service).
    private static let known = Mutex<[String: EngineAPISocket]>([:])

    public static func shared(engine: Engine, path: String, startsService: Bool, executable: String,
                              environment: [String: String]) -> EngineAPISocket {
        known.withLock { known in
            let key = "\(engine.rawValue) \(path) \(executable) \(environment.sorted { $0.key < $1.key })"
            if let socket = known[key] { return socket }
            let socket = EngineAPISocket(engine: engine, path: path, startsService: startsService, executable: executable, environment: environment)
            known[key] = socket
            return socket
        }
    }

    public init(engine: Engine, path: String, startsService: Bool, executable: String, environment: [String: String]) {
        self.engine = engine; self.path = path; self.startsService = startsService
        self.executable = executable; self.environment = environment
    }

    /// The look under way or done, and how many looks there were.
    private let current = Mutex<(task: Task<Status, Never>?, generation: Int)>((nil, 0))

    /// Whether the API can be used; the first call looks (and starts the service), later ones reuse that answer.
    public func status() async -> Status { await statusAndGeneration().status }

    func statusAndGeneration() async -> (status: Status, generation: Int) {
        let (task, generation) = current.withLock { state -> (Task<Status, Never>, Int) in
            if let task = state.task { return (task, state.generation) }
            let started = Task { await self.look() }
            state = (started, state.generation + 1)
            return (started, state.generation)
        }
        return (await task.value, generation)
    }

    /// After a refused connection: looks again (starting the service again where it ended), once
    /// for all callers that saw the same look fail.
    func lookAgain(after generation: Int) async -> Status {
        let task = current.withLock { state -> Task<Status, Never> in
            if let task = state.task, state.generation != generation { return task }
            let started = Task { await self.look() }
            state = (started, state.generation + 1)
            return started
        }
        return await task.value
    }

    private func look() async -> Status {
        switch await ping() {
        case .success(let version): return Self.check(version, serviceStart: nil)
        case .failure(let problem):
            guard startsService, problem.reason == .refused else {
                return .unavailable(reason: "\(path) does not answer (\(problem.message))")
            }
        }
        let started = ContinuousClock.now
        let deadline = started + .seconds(Defaults.podmanServiceStart)
        // Other ccm-lua processes may find the socket missing at the same moment; a second
        // service would take the socket file over from the first. The folder's lock lets one
        // start it while the others wait, then find it answering.
        guard let lock = await FolderLock.acquire((path as NSString).deletingLastPathComponent, until: deadline) else {
            return .unavailable(reason: "could not lock \((path as NSString).deletingLastPathComponent) to start `podman system service`")
        }
        defer { lock.release() }
        if case .success(let version) = await ping() { return Self.check(version, serviceStart: nil) }
        if let problem = await startService() { return .unavailable(reason: problem) }
        // The service creates its socket a moment after it starts: nothing to wait on but the
        // socket answering, so it is asked every 5 ms until the limit.
        while ContinuousClock.now < deadline {
            if case .success(let version) = await ping() {
                let took = ContinuousClock.now - started
                return Self.check(version, serviceStart: Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return .unavailable(reason: "`podman system service` did not answer on \(path) within \(Int(Defaults.podmanServiceStart)) s")
    }

    static func check(_ version: String, serviceStart: Double?) -> Status {
        if Self.compare(version, EngineAPIPlan.apiVersion) < 0 {
            return .unavailable(reason: "the engine speaks API \(version), older than the \(EngineAPIPlan.apiVersion) ccm-lua needs")
        }
        return .ready(apiVersion: version, serviceStart: serviceStart)
    }

    static func compare(_ a: String, _ b: String) -> Int {
        let x = a.split(separator: ".").map { Int($0) ?? 0 }, y = b.split(separator: ".").map { Int($0) ?? 0 }
        for i in 0..<max(x.count, y.count) {
            let l = i < x.count ? x[i] : 0, r = i < y.count ? y[i] : 0
            if l != r { return l < r ? -1 : 1 }
        }
        return 0
    }

    /// The API version the socket answers with: `GET /_ping` (unversioned, so an old engine
    /// answers too) carries it in its Api-Version header on both engines, and costs the engine
    /// nothing (Podman's /version asks its OCI runtime and conmon for theirs).
    private func ping() async -> Result<String, HTTPClient.Failure> {
        do {
            let response = try await http.execute(HTTPClient.Request(url: "http://engine/_ping", timeout: 10, unixSocket: path))
            guard response.status == 200, let version = response.headers.first(where: { $0.name.lowercased() == "api-version" })?.value else {
                return .failure(HTTPClient.Failure(reason: .other, message: "GET /_ping answered \(response.status) without an API version"))
            }
            return .success(version)
        } catch let failure as HTTPClient.Failure {
            return .failure(failure)
        } catch {
            return .failure(HTTPClient.Failure(reason: .other, message: "\(error)"))
        }
    }

    /// Starts `podman system service` in a session of its own, so it outlives neither its idle
    /// time nor is it ended by a Ctrl-C meant for ccm-lua; `setsid -f` returns at once.
    /// The service is shared by every later ccm-lua process, so it must owe nothing to this one:
    /// it runs in `/` with a neutral environment (a test's HOME and working folder, removed after,
    /// once broke every container start: "write child: broken pipe"), through `ChildProcess`,
    /// which starts it with no signal blocked and no descriptor of ours.
    private func startService() async -> String? {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let argv = ["/bin/sh", "-c", "cd / && exec setsid -f \"$@\" </dev/null >/dev/null 2>&1", "sh",
                    executable, "system", "service", "--time", String(Int(Defaults.podmanServiceIdle)), "unix://" + path]
        let code: Int32
        do {
            let pid = try ChildProcess.spawn(argv, environment: Self.serviceEnvironment(environment))
            code = await Task.detached { ChildProcess.wait(pid) }.value
        } catch {
            return "`\(executable) system service` could not be started: \(error)"
        }
        return code == 0 ? nil : "`\(executable) system service` could not be started (exit \(code))"
    }

    /// PATH, the user's own home (not this process's HOME) and, for a rootless Podman, its
    /// runtime folder: what any process of this user would start the service with.
    static func serviceEnvironment(_ own: [String: String], inherited: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        let home = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_dir) } ?? "/"
        var environment = ["PATH": inherited["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home]
        if let runtime = own["XDG_RUNTIME_DIR"] ?? inherited["XDG_RUNTIME_DIR"], !runtime.isEmpty { environment["XDG_RUNTIME_DIR"] = runtime }
        return environment
    }
}

/// An exclusive `flock` on a folder, shared with other processes; taken without blocking a thread.
struct FolderLock {
    let descriptor: Int32

    static func acquire(_ folder: String, until deadline: ContinuousClock.Instant) async -> FolderLock? {
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        while true {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return FolderLock(descriptor: descriptor) }
            guard errno == EWOULDBLOCK, ContinuousClock.now < deadline else { close(descriptor); return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
