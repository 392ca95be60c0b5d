import Foundation
import Synchronization

/// How fault rules reach a node's network namespace (never through the node's image, which may
/// have no shell, iptables or tc):
/// - nsenter: ccm-lua enters the namespace itself with the host's `nsenter`, `iptables` and `tc`.
///   Needs the engine on this host, those tools, and root, or for a rootless Podman the user
///   namespace that owns its containers' namespaces (`podman unshare nsenter ...`). The cheapest
///   way in.
/// - container: a short-lived helper container joins the node's namespace
///   (`--network container:<id> --cap-add NET_ADMIN`) and runs the tools of its own image. Works on
///   any engine, local or remote.
public enum FaultMechanism: String, Sendable, CaseIterable {
    case nsenter, container
}

public struct NetworkNamespace: Sendable {
    /// Forces a mechanism: "nsenter" or "container".
    public static let mechanismVariable = "CCM_LUA_FAULT_MECHANISM"
    /// The helper image (with sh, iptables and iproute2) of the container mechanism.
    public static let imageVariable = "CCM_LUA_FAULT_IMAGE"
    public static let defaultImage = "ccm-lua/nettools:bookworm"

    public let mechanism: FaultMechanism
    public let helperImage: String
    /// What `nsenter` runs under: nothing for root; `podman unshare` for a rootless Podman, whose
    /// user namespace owns the containers' namespaces (host nsenter gets "Operation not permitted").
    public let entry: [String]
    /// The client's own environment additions, for `entry`.
    public let entryEnvironment: [String: String]
    let runtime: any ContainerRuntime
    let cluster: String

    public init(runtime: any ContainerRuntime, cluster: String,
                environment: [String: String] = ProcessInfo.processInfo.environment, userID: uid_t = geteuid()) throws {
        self.runtime = runtime
        self.cluster = cluster
        var environment = environment
        // This host cannot see the processes of nodes on other hosts; a helper container works on every engine.
        if runtime is MultiHostRuntime, (environment[Self.mechanismVariable] ?? "").isEmpty {
            environment[Self.mechanismVariable] = FaultMechanism.container.rawValue
        }
        self.mechanism = try Self.choose(engine: runtime.engine, environment: environment, location: runtime.location, userID: userID)
        let image = environment[Self.imageVariable] ?? ""
        self.helperImage = image.isEmpty ? Self.defaultImage : image
        if mechanism == .nsenter, runtime.engine == .podman, userID != 0 {
            let client = runtime.commandLineClient
            entry = client?.commandLine(["unshare"]) ?? ["podman", "unshare"]
            entryEnvironment = client?.environment ?? [:]
        } else {
            entry = []
            entryEnvironment = [:]
        }
    }

    /// The forced mechanism, else nsenter where it can work, else the helper container.
    /// `location`: where the runtime's engine runs (its own DOCKER_HOST or context counts); by
    /// default read from `environment`.
    public static func choose(engine: Engine, environment: [String: String], location: EngineLocation? = nil,
                              userID: uid_t = geteuid()) throws -> FaultMechanism {
        if let forced = environment[mechanismVariable], !forced.isEmpty {
            guard let mechanism = FaultMechanism(rawValue: forced) else {
                throw FaultError(.usage, "\(mechanismVariable)=\(forced) is not a fault mechanism; use nsenter or container")
            }
            return mechanism
        }
        return nsenterProblem(engine: engine, environment: environment, location: location, userID: userID) == nil ? .nsenter : .container
    }

    /// Why nsenter cannot be used here, or nil when it can.
    public static func nsenterProblem(engine: Engine, environment: [String: String], location: EngineLocation? = nil,
                                      userID: uid_t = geteuid()) -> String? {
        // The node's process is not on this host: its namespace cannot be entered from here.
        let location = location ?? EngineLocation.of(engine: engine, environment: environment)
        if location.isRemote { return "the engine is remote (\(location.detail ?? "another host"))" }
        // Not root: a rootless Podman is entered through `podman unshare`; Docker needs root.
        if engine == .docker, userID != 0 { return "ccm-lua does not run as root" }
        for tool in ["nsenter", "iptables", "tc"] where findTool(tool, environment: environment) == nil {
            return "`\(tool)` is not installed on this host"
        }
        return nil
    }

    static func findTool(_ name: String, environment: [String: String]) -> String? {
        let path = (environment["PATH"] ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        return nil
    }

    public struct Outcome: Sendable {
        public var code: Int32
        public var output: String
        /// When the script had finished (monotonic ns): its rules are in or out from then on,
        /// even while a helper container is still being removed.
        public var finished: UInt64 = History.now()
    }

    /// Runs `script` with `sh` inside the network namespace of `node` (a running or paused container).
    public func run(_ script: String, in node: ContainerInfo) async throws -> Outcome {
        switch mechanism {
        case .nsenter:
            guard node.pid > 0, FileManager.default.fileExists(atPath: "/proc/\(node.pid)/ns/net") else {
                throw FaultError(.runtime, "cannot enter the network namespace of \(node.name): its process (pid \(node.pid)) is not visible from this host; set \(Self.mechanismVariable)=container")
            }
            let argv = entry + ["nsenter", "-t", String(node.pid), "-n", "sh", "-c", script]
            let out = try await ProcessRunner.run(argv, environment: entryEnvironment, timeout: 60)
            return Outcome(code: out.code, output: out.stderrText + out.stdoutText)
        case .container:
            return try await runHelper(script, joining: node)
        }
    }

    /// Is the helper image here? (Only the container mechanism needs it.)
    public func checkHelperImage() async throws {
        guard mechanism == .container else { return }
        if try await runtime.imageExists(helperImage) { return }
        let engine = runtime.engine.rawValue
        let location = runtime.location
        throw FaultError(.image, """
            faults on \(engine) run through a helper container, and its image '\(helperImage)' is not here. \
            Build one with iptables and iproute2 (`printf 'FROM debian:bookworm\\nRUN apt-get update && apt-get install -y --no-install-recommends iptables iproute2\\n' | \(engine) build -t \(helperImage) -`), \
            or point \(Self.imageVariable) at such an image\
            \(Self.nsenterProblem(engine: runtime.engine, environment: ProcessInfo.processInfo.environment, location: location) == nil ? ", or set \(Self.mechanismVariable)=nsenter to use this host's tools" : "")\
            \(location.isRemote ? ". The image must be on the engine that runs the nodes (\(location.detail ?? "remote")), not only on this machine: `\(engine) build` with that engine selected builds it there, or copy it with `\(location.copyCommand(image: helperImage, engine: runtime.engine))`" : "")
            """)
    }

    /// A one-shot container in the node's namespace with NET_ADMIN, removed afterwards.
    private func runHelper(_ script: String, joining node: ContainerInfo) async throws -> Outcome {
        var spec = ContainerSpec(name: "\(cluster)-fault-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))", image: helperImage)
        spec.labels = Labels.forResource(cluster: cluster)
        spec.network = "container:\(node.id)"
        spec.capAdd = ["NET_ADMIN"]
        spec.entrypoint = ["sh", "-c", script]
        spec.command = []
        let id = try await runtime.createContainer(spec)
        do {
            try await runtime.start(id)
            var output = ""
            for try await line in runtime.logs(id, since: nil, follow: true) { output += line.text + "\n" }
            let finished = History.now()
            // The log stream can end a moment before the engine records the exit.
            var info = try await runtime.inspect(id)
            let settle = ContinuousClock.now + .seconds(10)
            while info.state == .running, ContinuousClock.now < settle {
                try await Task.sleep(for: .milliseconds(10))
                info = try await runtime.inspect(id)
            }
            try await runtime.remove(id)
            return Outcome(code: info.exitCode, output: output, finished: finished)
        } catch {
            try? await runtime.remove(id)
            throw error
        }
    }
}

/// Whether the kernel has netem (delay, duplicate, corrupt, reorder), asked once per process.
public enum NetemSupport {
    public static let missingModule = "sch_netem"
    private static let known = Mutex<Bool?>(nil)

    /// A netem qdisc tried on the loopback device of `node`'s namespace, and removed at once.
    public static func available(in namespace: NetworkNamespace, node: ContainerInfo) async throws -> Bool {
        if let answer = known.withLock({ $0 }) { return answer }
        let probe = "tc qdisc add dev lo root netem delay 1ms && tc qdisc del dev lo root"
        let outcome = try await namespace.run(probe, in: node)
        let answer: Bool
        if outcome.code == 0 {
            answer = true
        } else if outcome.output.contains("qdisc kind is unknown") || outcome.output.contains("No such file or directory") {
            answer = false
        } else {
            throw FaultError(.runtime, "could not tell whether the kernel has netem: `\(probe)` in \(node.name) said: \(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        known.withLock { $0 = answer }
        return answer
    }

    /// For `ccm-lua doctor`: tries netem in a throwaway namespace of this host (the engine's
    /// kernel is this one when the engine is local). An ordinary user (rootless Podman's) gets
    /// the rights for it in a user namespace of its own. nil when it cannot be told here.
    public static func availableOnHost() async -> Bool? {
        guard NetworkNamespace.findTool("unshare", environment: ProcessInfo.processInfo.environment) != nil else { return nil }
        let unshare = geteuid() == 0 ? ["unshare", "--net"] : ["unshare", "--user", "--map-root-user", "--net"]
        guard let out = try? await ProcessRunner.run(unshare + ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"], timeout: 10) else { return nil }
        if out.code == 0 { return true }
        return out.stderrText.contains("qdisc kind is unknown") ? false : nil
    }

    /// What `ccm-lua doctor` says about faults on this machine: netem, and the way into namespaces.
    public static func doctorText(engine: Engine?, environment: [String: String] = ProcessInfo.processInfo.environment) async -> String {
        let netem: String
        switch await availableOnHost() {
        case true?: netem = "netem available (fault.delay, duplicate, corrupt, reorder work)"
        case false?: netem = "netem missing: this kernel has no \(missingModule), so fault.delay, duplicate, corrupt and reorder raise \"unsupported\" (loss and rate work)"
        case nil: netem = "netem not checked (run doctor on the engine's host, with `unshare` and `tc` installed, to check)"
        }
        var way = ""
        if let engine {
            if let forced = environment[NetworkNamespace.mechanismVariable], !forced.isEmpty {
                way = "; rules enter namespaces by \(forced) (\(NetworkNamespace.mechanismVariable))"
            } else if let problem = NetworkNamespace.nsenterProblem(engine: engine, environment: environment) {
                let image = environment[NetworkNamespace.imageVariable].flatMap { $0.isEmpty ? nil : $0 } ?? NetworkNamespace.defaultImage
                way = "; rules enter namespaces through a helper container (\(image)), not nsenter: \(problem)"
            } else if engine == .podman, geteuid() != 0 {
                way = "; rules enter namespaces with nsenter and this host's iptables and tc, inside rootless Podman's user namespace (`podman unshare`)"
            } else {
                way = "; rules enter namespaces with nsenter and this host's iptables and tc"
            }
        }
        return "faults: " + netem + way
    }

    /// Sets the answer without asking the kernel (tests of the paths above it).
    public static func assume(_ answer: Bool?) { known.withLock { $0 = answer } }

    public static func unsupported(_ effect: NetemEffect) -> FaultError {
        FaultError(.unsupported, "fault.\(effect.name) needs the kernel module \(missingModule) (netem), which this kernel does not have (\"Specified qdisc kind is unknown\"); loss and rate work without it")
    }
}
