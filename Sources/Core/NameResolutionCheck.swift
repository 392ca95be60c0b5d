import Foundation

/// Whether containers on a user network find each other by name and connect, checked end to end:
/// a scratch network, a server container, a client container that reaches the server through its
/// network alias (as cluster nodes reach each other), then everything removed again.
///
/// Every cluster depends on this, and it is the classic Podman trap: Podman's CNI backend without
/// its `dnsname` plugin gives containers no name resolution at all, so etcd or Scylla nodes never
/// meet. When the check fails it says why (Podman's network set-up is also read statically) and
/// what to do.
///
/// The probe runs etcd in both containers (the client's etcd only keeps it alive, so images without
/// a shell work) and `etcdctl endpoint health` from the client: any image with `etcd` and
/// `etcdctl` on PATH serves, e.g. the test image `ccm-lua-test/etcd:3.4` or an upstream etcd image.
public struct NameResolutionCheck: Sendable {
    public let runtime: any ContainerRuntime
    public let image: String
    /// The environment the engine's client sees (for Podman's configuration files).
    public let environment: [String: String]
    /// Limit for the whole check: the server's start and every probe.
    public let timeout: Double

    public init(runtime: any ContainerRuntime, image: String,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                timeout: Double = Defaults.networkCheckTimeout) {
        self.runtime = runtime; self.image = image; self.environment = environment; self.timeout = timeout
    }

    /// The network alias the client resolves: a plain word, as node names are.
    public static let serverAlias = "probe-server"
    static let readyLine = "ready to serve client requests"

    public struct Outcome: Sendable {
        public var engine: Engine
        public var image: String
        public var ok: Bool
        /// False when the check itself could not run (image missing, engine error): then nothing
        /// is known about name resolution.
        public var ran = true
        /// What was seen, one sentence.
        public var summary: String
        public var cause: String?
        public var fix: String?
        /// What the failing probe printed (its last lines).
        public var output: String = ""
        /// Podman's network set-up as read from its configuration (nil for Docker).
        public var setup: PodmanNetworkSetup?
        /// Resources the check could not remove (they carry ccm-lua's labels; `ccm-lua gc` removes them).
        public var leftovers: [String] = []
        public var seconds: Double = 0

        /// As `ccm-lua doctor` prints it, below the engine's lines.
        public var text: String {
            let result = ok ? "ok" : ran ? "FAILED" : "COULD NOT CHECK"
            var lines = ["  name resolution on a user network (\(image)): \(result) in \(String(format: "%.1f", seconds)) s"]
            if !ok || setup?.problem != nil { lines.append("    \(summary)") }
            if let setup { lines.append("    podman network backend: \(setup.description)") }
            let shown = output.trimmingCharacters(in: .whitespacesAndNewlines)
            if !ok && !shown.isEmpty {
                lines.append(contentsOf: shown.split(separator: "\n").suffix(3).map { "    probe said: \($0)" })
            }
            if let cause { lines.append("    cause: \(cause)") }
            if let fix { lines.append("    fix: \(fix)") }
            if !leftovers.isEmpty {
                lines.append("    could not remove \(leftovers.joined(separator: ", ")); `ccm-lua gc` removes them")
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Runs the check and removes what it created, also when it fails.
    public func run() async -> Outcome {
        let started = ContinuousClock.now
        let network = "ccm-lua-doctor-\(Labels.runID)-\(runtime.engine.rawValue)"
        let server = "\(network)-server", client = "\(network)-client"
        var outcome = Outcome(engine: runtime.engine, image: image, ok: false, summary: "")
        if runtime.engine == .podman, let cli = runtime.commandLineClient {
            outcome.setup = await PodmanNetworkSetup.read(cli, environment: environment)
        }
        do {
            try await probe(network: network, server: server, client: client, into: &outcome)
        } catch let error as RuntimeError {
            outcome.ok = false
            outcome.ran = false
            outcome.summary = "The check could not run: \(error.summary)"
            outcome.output = error.stderr
            // The engine's hint would point at a container that is removed by now.
            outcome.fix = error.kind == .startFailed
                ? "The probe image needs `etcd` and `etcdctl` on PATH: pass --probe-image with one (e.g. ccm-lua-test/etcd:3.4 from scripts/setup)."
                : error.hint
        } catch {
            outcome.ok = false
            outcome.ran = false
            outcome.summary = "The check could not run: \(error)"
        }
        outcome.leftovers = await removeAll(network: network, containers: [server, client])
        outcome.seconds = (ContinuousClock.now - started) / .seconds(1)
        return outcome
    }

    private func probe(network: String, server: String, client: String, into outcome: inout Outcome) async throws {
        let labels = Labels.forResource(cluster: network, keep: false)
        try await runtime.createNetwork(NetworkSpec(name: network, labels: labels))
        _ = try await runtime.createContainer(etcd(server, network: network, labels: labels, listen: "0.0.0.0",
                                               aliases: [Self.serverAlias]))
        _ = try await runtime.createContainer(etcd(client, network: network, labels: labels, listen: "127.0.0.1", aliases: []))
        try await runtime.start(inOrder: [server, client])
        let deadline = ContinuousClock.now + .seconds(timeout)
        switch try await waitForReady(server, until: deadline) {
        case .ready: break
        case .ended(let lastLines):
            outcome.ran = false
            outcome.summary = "The probe's server (etcd in \(image)) stopped before it was ready."
            outcome.output = lastLines.joined(separator: "\n")
            outcome.fix = "Pass --probe-image with an image whose `etcd` runs (e.g. ccm-lua-test/etcd:3.4 from scripts/setup)."
            return
        case .timedOut:
            outcome.ran = false
            outcome.summary = "The probe's server (etcd in \(image)) did not log \"\(Self.readyLine)\" within \(Int(timeout)) s."
            outcome.fix = "Pass --probe-image with an image whose `etcd` starts (e.g. ccm-lua-test/etcd:3.4 from scripts/setup); `\(runtime.engine.rawValue) logs` of a container from it says why it does not."
            return
        }
        let byName = try await health(client, endpoint: "\(Self.serverAlias):2379", until: deadline)
        if byName.code == 0 {
            outcome.ok = true
            outcome.summary = "A container resolved another by its network alias and connected to it."
            if let problem = outcome.setup?.problem {
                outcome.summary = "Names resolved, although Podman's configuration looks incomplete: \(problem.cause)"
            }
            return
        }
        outcome.output = byName.stdout + byName.stderr
        let address = try await runtime.inspect(server).ipAddresses[network]
        let byAddress = try await address.asyncMap { try await health(client, endpoint: "\($0):2379", until: deadline) }
        if byAddress?.code == 0 {
            outcome.summary = "A container reached another by its address, but not by its name `\(Self.serverAlias)`."
            if let problem = outcome.setup?.problem {
                outcome.cause = problem.cause
                outcome.fix = problem.fix
            } else if runtime.engine == .podman {
                outcome.cause = "Podman's DNS for user networks does not answer for this network."
                outcome.fix = PodmanNetworkSetup.dnsFix
            } else {
                outcome.cause = "Docker's embedded DNS (127.0.0.11) did not resolve the alias."
                outcome.fix = "Restart dockerd; if it persists, check that nothing (a firewall, a custom daemon.json \"dns\") interferes with its embedded DNS."
            }
        } else {
            outcome.summary = "Containers on one user network could not connect to each other, by name or by address\(address.map { " (\($0))" } ?? "")."
            outcome.cause = "Traffic between containers on a user network is blocked or the network has no route."
            outcome.fix = "Check the host's firewall (iptables FORWARD rules, `net.ipv4.ip_forward=1`) and the engine's network set-up (`\(runtime.engine.rawValue) network inspect`)."
        }
    }

    /// A container running a single-node etcd: the server listens on the network, the client only
    /// on its loopback (it is just somewhere to run `etcdctl` from).
    private func etcd(_ name: String, network: String, labels: [String: String], listen: String, aliases: [String]) -> ContainerSpec {
        var spec = ContainerSpec(name: name, image: image)
        spec.labels = labels
        spec.network = network
        spec.networkAliases = aliases
        spec.entrypoint = ["etcd"]
        let advertise = aliases.first ?? "127.0.0.1"
        spec.command = ["--name", "probe", "--data-dir", "/tmp/ccm-lua-probe.etcd",
                        "--listen-client-urls", "http://\(listen):2379", "--advertise-client-urls", "http://\(advertise):2379",
                        "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                        "--initial-cluster", "probe=http://127.0.0.1:2380"]
        return spec
    }

    enum Readiness: Sendable { case ready, ended(lastLines: [String]), timedOut }

    /// Follows the server's log until its ready line, its end (the container stopped), or the deadline.
    private func waitForReady(_ container: String, until deadline: ContinuousClock.Instant) async throws -> Readiness {
        let runtime = self.runtime
        return try await withThrowingTaskGroup(of: Readiness.self) { group in
            group.addTask {
                var last: [String] = []
                for try await line in runtime.logs(container, since: nil, follow: true) {
                    if line.text.contains(Self.readyLine) { return .ready }
                    last = Array((last + [line.text]).suffix(3))
                }
                return .ended(lastLines: last)
            }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return .timedOut
            }
            let readiness = try await group.next() ?? .timedOut
            group.cancelAll()
            return readiness
        }
    }

    /// `etcdctl endpoint health` from the client: resolution, connection and an answer in one.
    private func health(_ client: String, endpoint: String, until deadline: ContinuousClock.Instant) async throws -> ExecResult {
        let left = max(5, (deadline - ContinuousClock.now) / .seconds(1))
        let wait = Int(min(15, left / 2))
        var request = ExecRequest(argv: ["etcdctl", "--endpoints", "http://\(endpoint)", "--dial-timeout", "\(wait)s",
                                         "--command-timeout", "\(wait)s", "endpoint", "health"])
        request.timeout = left
        return try await runtime.exec(client, request)
    }

    /// Removes the containers and the network; returns what could not be removed.
    private func removeAll(network: String, containers: [String]) async -> [String] {
        var left: [String] = []
        if (try? await runtime.remove(all: containers)) == nil { left += containers }
        if (try? await runtime.removeNetwork(network)) == nil { left.append(network) }
        return left
    }

    /// The image to probe with: `requested` when given, else the first local image whose
    /// repository is named `etcd` (the test image first). Nil when there is none.
    public static func chooseImage(_ runtime: CLIContainerRuntime, requested: String?) async -> String? {
        if let requested { return requested }
        let output = try? await ProcessRunner.run(runtime.commandLine(["images", "--format", "{{.Repository}}:{{.Tag}}"]),
                                                  environment: runtime.environment, timeout: 30)
        guard let output, output.code == 0 else { return nil }
        let images = output.stdoutText.split(separator: "\n").map(String.init).filter { reference in
            let repository = reference.split(separator: ":").dropLast().joined(separator: ":")
            return !reference.hasSuffix(":<none>") && repository.split(separator: "/").last == "etcd"
        }
        return images.first { $0.contains(testImage) } ?? images.first
    }

    /// What scripts/setup builds into both engines.
    public static let testImage = "ccm-lua-test/etcd:3.4"

    /// What to say when no image can run the check.
    public static func noImageHint(_ engine: Engine) -> String {
        "no image that can run the check is present in \(engine.rawValue) (it needs `etcd` and `etcdctl` on PATH): "
            + "pass --probe-image IMAGE naming one (e.g. an upstream etcd image you pulled), or run scripts/setup, which builds \(testImage)"
    }
}

/// Podman's network backend and whether it has its DNS piece, read from `podman info` and the
/// containers.conf files (the same files, in the same order, that Podman reads).
public struct PodmanNetworkSetup: Sendable {
    /// "cni" or "netavark" (what `podman info` reports).
    public var backend: String
    /// Where the DNS piece was looked for.
    public var searched: [String]
    /// The DNS plugin or helper found (`dnsname` for CNI, `aardvark-dns` for netavark).
    public var dnsHelper: String?

    public init(backend: String, searched: [String], dnsHelper: String?) {
        self.backend = backend; self.searched = searched; self.dnsHelper = dnsHelper
    }

    public struct Problem: Sendable { public var cause: String; public var fix: String }

    public static let dnsFix = "install golang-github-containernetworking-plugin-dnsname (Debian/Ubuntu) or podman-plugins (Fedora/RHEL) for the CNI backend, "
        + "or switch to netavark with aardvark-dns (network_backend = \"netavark\" in containers.conf; switching needs `podman system reset`, which removes every container and image)"

    public var problem: Problem? {
        guard dnsHelper == nil else { return nil }
        switch backend {
        case "cni":
            return Problem(cause: "Podman's CNI backend has no DNS plugin (no `dnsname` in \(searched.joined(separator: ", "))).",
                           fix: Self.dnsFix)
        case "netavark":
            return Problem(cause: "Podman's netavark backend has no aardvark-dns (not in \(searched.joined(separator: ", "))).",
                           fix: "install aardvark-dns (Debian/Ubuntu/Fedora package `aardvark-dns`), or use the CNI backend with its dnsname plugin")
        default:
            return nil
        }
    }

    public var description: String {
        "\(backend), DNS " + (dnsHelper ?? "piece missing (looked in \(searched.joined(separator: ", ")))")
    }

    /// Nil for a remote Podman (its files are on another machine) or when `podman info` fails.
    public static func read(_ podman: CLIContainerRuntime, environment: [String: String]) async -> PodmanNetworkSetup? {
        let merged = environment.merging(podman.environment) { $1 }
        if podman.globalArguments.contains("--remote") || podman.globalArguments.contains("--url")
            || merged["CONTAINER_HOST"] != nil || merged["CONTAINER_CONNECTION"] != nil { return nil }
        guard let output = try? await ProcessRunner.run(podman.commandLine(["info", "--format", "{{.Host.NetworkBackend}}"]),
                                                        environment: podman.environment, timeout: 30),
              output.code == 0 else { return nil }
        let backend = output.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let config = ContainersConf(environment: merged)
        let searched: [String], helper: String
        switch backend {
        case "cni":
            searched = config.strings("cni_plugin_dirs") ?? ["/usr/local/libexec/cni", "/usr/libexec/cni", "/usr/local/lib/cni", "/usr/lib/cni", "/opt/cni/bin"]
            helper = "dnsname"
        case "netavark":
            searched = config.strings("helper_binaries_dir") ?? ["/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/libexec/podman", "/usr/lib/podman"]
            helper = "aardvark-dns"
        default:
            return PodmanNetworkSetup(backend: backend, searched: [], dnsHelper: "(not checked for this backend)")
        }
        let found = searched.map { "\($0)/\(helper)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        return PodmanNetworkSetup(backend: backend, searched: searched, dnsHelper: found)
    }
}

/// The settings of Podman's containers.conf files that the check needs: `CONTAINERS_CONF` alone
/// when set, else the system files then the user's, later files overriding earlier ones.
struct ContainersConf {
    let files: [String]

    init(environment: [String: String]) {
        if let only = environment["CONTAINERS_CONF"], !only.isEmpty {
            files = [only]
            return
        }
        var files = ["/usr/share/containers/containers.conf", "/etc/containers/containers.conf"]
        let dropIns = "/etc/containers/containers.conf.d"
        files += ((try? FileManager.default.contentsOfDirectory(atPath: dropIns)) ?? []).filter { $0.hasSuffix(".conf") }.sorted()
            .map { "\(dropIns)/\($0)" }
        if getuid() != 0 {
            let home = environment["XDG_CONFIG_HOME"] ?? "\(environment["HOME"] ?? NSHomeDirectory())/.config"
            files.append("\(home)/containers/containers.conf")
        }
        self.files = files
    }

    /// The last value of `key = ["a", "b"]` (a one-line TOML array of strings) in any file.
    func strings(_ key: String) -> [String]? {
        var value: [String]?
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == key else { continue }
                value = parts[1].split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            }
        }
        return value
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
