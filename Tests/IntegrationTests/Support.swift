import Foundation
import Synchronization
import Testing
import Core

/// Shared set-up of the integration tests: which engines are usable, test images, and
/// resources that are labelled, uniquely named and always removed.
enum Integration {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    static let baseImage = "ccm-lua-test/base:bookworm"
    static let etcdImage = "ccm-lua-test/etcd:3.4"

    /// Tests use local images only: a missing image must never send a pull to a registry (this
    /// process and the ccm-lua processes it starts inherit the setting).
    static let offline: Void = { setenv("CCM_LUA_PULL", "never", 1) }()

    /// `CCM_LUA_TEST_ENGINE=docker|podman` runs only that engine's cases; the others are skipped,
    /// also under CI=true. scripts/test runs the Docker cases, then the Podman ones: at the same
    /// time, Podman's etcd members electing in a loop on one core pushed a Docker exec past 10 s.
    static let onlyEngine: Engine? = ProcessInfo.processInfo.environment["CCM_LUA_TEST_ENGINE"].flatMap(Engine.init(rawValue:))

    /// The tests run as an ordinary user (scripts/test-rootless): their Podman is rootless.
    static let isRootless = geteuid() != 0

    /// Whether the engine can pause containers: rootless Podman freezes a container's cgroup,
    /// which it gives containers only on a cgroup v2 host (this VM is v1).
    static let canPause = !isRootless || FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")

    /// The host's id for `id` inside a container of this user's rootless Podman: 0 is the user
    /// itself, 1...n the user's range in /etc/subuid (/etc/subgid for a group). Unchanged for root.
    static func hostID(_ id: UInt32, group: Bool = false) -> UInt32 {
        guard isRootless else { return id }
        let own = group ? getgid() : getuid()
        if id == 0 { return own }
        let me = getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? ""
        let text = (try? String(contentsOfFile: group ? "/etc/subgid" : "/etc/subuid", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":")
            guard f.count == 3, f[0] == me || f[0] == "\(getuid())", let start = UInt32(f[1]) else { continue }
            return start + id - 1
        }
        return id
    }

    /// The time limit of an exec in a test: generous, because an exec that runs out fails the test
    /// where a slow answer would only retry, and two busy cores made a 2 s etcdctl take over 10 s.
    static let execLimit: Double = 60

    /// One answer per engine per process: probing costs a client call.
    private static let probes = Mutex<[Engine: String?]>([:])

    /// A runtime for `engine` with `images` present. When the engine or an image is missing, the
    /// test is cancelled (shown as skipped) with the reason, except under CI=true, where it fails:
    /// CI must exercise both engines.
    static func runtime(_ engine: Engine, images: [String] = [baseImage]) async throws -> CLIContainerRuntime {
        _ = offline
        if let onlyEngine, onlyEngine != engine {
            try Test.cancel("CCM_LUA_TEST_ENGINE=\(onlyEngine.rawValue): the \(engine.rawValue) case runs in its own pass")
        }
        let runtime = CLIContainerRuntime(engine: engine)
        var problem: String?
        if let known = probes.withLock({ $0[engine] }) {
            problem = known
        } else {
            let probe = await runtime.probeVersions()
            problem = probe.error.map { "\($0.summary) \($0.hint ?? "")" }
            probes.withLock { $0[engine] = .some(problem) }
        }
        if problem == nil {
            for image in images where !(try await runtime.imageExists(image)) {
                problem = "test image \(image) is missing from \(engine.rawValue); build it with scripts/setup."
                break
            }
        }
        guard let problem else { return runtime }
        let reason = "\(engine.rawValue) is not usable here: \(problem)"
        if isCI {
            throw RuntimeError(.runtimeNotFound, engine: engine, summary: "CI=true requires both engines. " + reason)
        }
        // Swift Testing's console output does not show a cancelled case's comment; say it here.
        FileHandle.standardError.write(Data("↷ skipping the \(engine.rawValue) case: \(reason)\n".utf8))
        try Test.cancel(Comment(rawValue: reason))
    }

    /// The runtime ccm-lua itself would use for `engine`: the Engine API runtime around the client
    /// where the socket answers (CCM_LUA_ENGINE_API, default auto), so the tests that use it run
    /// through whichever path a user's run takes; with CCM_LUA_ENGINE_API=off, the client alone.
    static func chosenRuntime(_ engine: Engine, images: [String] = [baseImage]) async throws -> any ContainerRuntime {
        let cli = try await runtime(engine, images: images)
        return try EngineAPIRuntime.choose(cli: cli, environment: ProcessInfo.processInfo.environment)
    }

    /// Runs `body` with a scope whose resources are removed afterwards, whether it succeeded or not.
    static func withScope<T>(_ runtime: any ContainerRuntime, _ name: String, _ body: (Scope) async throws -> T) async throws -> T {
        let scope = Scope(runtime: runtime, name: name)
        do {
            let result = try await body(scope)
            try await scope.removeAll()
            return result
        } catch {
            try? await scope.removeAll()
            throw error
        }
    }
}

/// The resources of one test: named `ccmt-RUNID-NAME-ENGINE-...` so parallel runs and the two
/// engines never collide, and labelled as one ccm-lua cluster so cleanup finds them all.
struct Scope {
    let runtime: any ContainerRuntime
    /// The cluster label value and name prefix.
    let cluster: String

    init(runtime: any ContainerRuntime, name: String) {
        self.runtime = runtime
        self.cluster = "ccmt-\(Labels.runID)-\(name)-\(runtime.engine.rawValue)"
    }

    var labels: [String: String] { Labels.forResource(cluster: cluster) }

    func name(_ suffix: String) -> String { "\(cluster)-\(suffix)" }

    /// A container spec from the base image running `command`, labelled as node `node`.
    func spec(_ node: String, image: String = Integration.baseImage, command: [String]? = ["sleep", "1000"]) -> ContainerSpec {
        var spec = ContainerSpec(name: name(node), image: image)
        spec.labels = Labels.forResource(cluster: cluster, node: node)
        spec.command = command
        return spec
    }

    /// Creates and starts a container; returns its name.
    @discardableResult
    func run(_ node: String, image: String = Integration.baseImage, command: [String]? = ["sleep", "1000"],
             configure: (inout ContainerSpec) -> Void = { _ in }) async throws -> String {
        var spec = spec(node, image: image, command: command)
        configure(&spec)
        _ = try await runtime.createContainer(spec)
        try await runtime.start(spec.name)
        return spec.name
    }

    func removeAll() async throws {
        let report = try await ResourceCleanup.removeAll(matching: [Labels.cluster: cluster], in: runtime)
        if !report.failures.isEmpty {
            Issue.record("cleanup of \(cluster) left: \(report.failures)")
        }
    }
}

/// Polls `condition` every 100 ms until it holds or `seconds` pass.
func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}

/// Expects `body` to throw a `RuntimeError` of `kind` whose message is actionable; returns it.
@discardableResult
func expectRuntimeError(_ kind: RuntimeError.Kind, sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () async throws -> Void) async -> RuntimeError? {
    do {
        try await body()
        Issue.record("expected a RuntimeError of kind \(kind), but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as RuntimeError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(!error.summary.isEmpty, sourceLocation: sourceLocation)
        #expect(error.hint?.isEmpty == false, "no hint in: \(error)", sourceLocation: sourceLocation)
        #expect(!error.command.isEmpty, sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a RuntimeError of kind \(kind), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

extension Integration {
    /// The uid the ordinary-user tests run ccm-lua as (a member of the `docker` group).
    static let ordinaryUser: uid_t = 1000

    /// A folder for one ordinary-user run, owned by that user: `root` (HOME, the script's place),
    /// `root/home` (CCM_LUA_HOME) and `root/docker` (DOCKER_CONFIG).
    static func ordinaryUserFolder(_ prefix: String) throws -> (root: URL, home: URL) {
        let root = URL(fileURLWithPath: "/tmp/ccm-lua-\(prefix)-\(UUID().uuidString.prefix(8))")
        let home = root.appendingPathComponent("home")
        for dir in [root, home, root.appendingPathComponent("docker")] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            guard chown(dir.path, ordinaryUser, ordinaryUser) == 0 else {
                try? FileManager.default.removeItem(at: root)
                throw OrdinaryUserProblem("cannot give \(dir.path) to uid \(ordinaryUser): \(String(cString: strerror(errno)))")
            }
        }
        return (root, home)
    }

    /// Runs `ccm-lua SCRIPT` as `ordinaryUser` in the docker group (setpriv, so as root only), with
    /// the folder from `ordinaryUserFolder` and Docker as its engine.
    static func runAsOrdinaryUser(_ script: URL, root: URL, home: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        guard let docker = getgrnam("docker")?.pointee.gr_gid else { throw OrdinaryUserProblem("no docker group on this machine") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=\(ordinaryUser)", "--regid=\(ordinaryUser)", "--groups=\(docker)", "--", Binary.path, script.path]
        process.environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": root.path, "DOCKER_CONFIG": root.appendingPathComponent("docker").path,
            "CCM_LUA_HOME": home.path, "CCM_LUA_RUNTIME": "docker", "CCM_LUA_PULL": "never",
        ]
        process.currentDirectoryURL = root
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // stderr on a thread of its own: a full pipe would otherwise stop the child.
        let stderrData = Mutex(Data())
        let readDone = DispatchSemaphore(value: 0)
        Thread { stderrData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() }; readDone.signal() }.start()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        readDone.wait()
        return (process.terminationStatus, stdout, String(decoding: stderrData.withLock { $0 }, as: UTF8.self))
    }

    struct OrdinaryUserProblem: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }
}
