import Foundation

/// `ccm-lua doctor --hosts`: whether a set of engines can carry one cluster. Each host answers,
/// they are members of one swarm with a manager among them, and an overlay network works: a
/// probe container on the first host is resolved by name from a probe on every other host.
/// Everything it makes is labelled and removed afterwards, also when a step fails.
public struct HostsCheck: Sendable {
    public let hosts: [EngineHost]
    /// Needs `sleep` and `getent` (any Debian-based image; the etcd test image has both).
    public let image: String
    /// Builds each host's client (tests substitute their own).
    public var engine: @Sendable (EngineHost) -> any ContainerRuntime = { $0.runtime() }

    public init(hosts: [EngineHost], image: String) { self.hosts = hosts; self.image = image }

    public struct Outcome: Sendable {
        public var lines: [String] = []
        public var ok = true
        public var text: String { lines.joined(separator: "\n") }
    }

    public func run() async -> Outcome {
        var outcome = Outcome()
        func fail(_ problem: String, fix: String? = nil) -> Outcome {
            outcome.ok = false
            outcome.lines.append("  problem: \(problem)")
            if let fix { outcome.lines.append("  fix: \(fix)") }
            return outcome
        }
        let engines = hosts.map { ($0, engine($0)) }
        outcome.lines.append("hosts:")
        for (host, runtime) in engines {
            do {
                let version = try await runtime.version()
                let swarm = try await runtime.swarm()
                let role = !swarm.isActive ? "not in a swarm" : swarm.isManager ? "swarm manager" : "swarm worker"
                outcome.lines.append("  \(host.name) \(host.address): engine \(version.server), \(role)")
            } catch {
                outcome.lines.append("  \(host.name) \(host.address): does not answer")
                return fail("\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)",
                            fix: "check the address and that the engine runs: `docker \(host.dockerFlag) version`")
            }
        }
        let runtime: MultiHostRuntime
        do {
            runtime = MultiHostRuntime(hosts: engines, manager: try await SwarmCheck.manager(of: engines))
        } catch let error as ClusterError {
            outcome.lines.append("one swarm: no")
            return fail(error.message)
        } catch {
            return fail("\(error)")
        }
        outcome.lines.append("one swarm: yes, managed by \(runtime.manager)")
        guard hosts.count > 1 else { return outcome }
        do {
            try await ImagePolicy.ensure(image, policy: .never, runtime: runtime)
        } catch {
            outcome.lines.append("overlay across hosts: not checked")
            return fail("\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)",
                        fix: "pass --probe-image with an image present on every host (it needs `sleep` and `getent`), or load one: `docker save IMAGE | docker -H ADDRESS load`")
        }
        let began = ContinuousClock.now
        do {
            let resolved = try await probe(runtime)
            let seconds = (ContinuousClock.now - began).seconds
            outcome.lines.append("overlay across hosts: ok (\(resolved.joined(separator: ", ")) resolved \(hosts[0].name)'s probe by name; \(String(format: "%.1f", seconds)) s)")
        } catch {
            outcome.lines.append("overlay across hosts: no")
            return fail("\(error)", fix: "open the swarm's ports between the hosts (2377/tcp, 7946/tcp+udp, 4789/udp) and check `docker network inspect` on the manager")
        }
        return outcome
    }

    /// A network and probes of their own, removed whatever happens.
    private func probe(_ runtime: MultiHostRuntime) async throws -> [String] {
        let scope = "doctor-\(Labels.runID)"
        let network = Cluster.networkName(scope)
        let labels = Labels.forResource(cluster: scope, keep: false)
        var made: [String] = []
        do {
            try await runtime.createNetwork(NetworkSpec(name: network, labels: labels))
            let target = "\(scope)-\(hosts[0].name)"
            var spec = ContainerSpec(name: target, image: image)
            spec.labels = labels.merging([Labels.node: hosts[0].name]) { a, _ in a }
            spec.network = network
            spec.entrypoint = ["sleep", "300"]
            spec.command = []
            runtime.place(node: hosts[0].name, container: target, on: hosts[0].name)
            made.append(target)
            _ = try await runtime.createContainer(spec)
            try await runtime.start(target)
            let probes = hosts.dropFirst().map { ($0, "\(scope)-\($0.name)") }
            made += probes.map(\.1)
            let resolved = try await withThrowingTaskGroup(of: String.self) { group in
                for (host, name) in probes {
                    group.addTask { try await self.resolve(target, from: host, name: name, network: network, labels: labels, runtime: runtime) }
                }
                var names: [String] = []
                for try await name in group { names.append(name) }
                return names.sorted()
            }
            try await cleanUp(runtime, containers: made, network: network)
            return resolved
        } catch {
            try? await cleanUp(runtime, containers: made, network: network)
            throw error
        }
    }

    /// Runs `getent hosts TARGET` in a probe on `host`; returns the host's name when it resolved.
    private func resolve(_ target: String, from host: EngineHost, name: String, network: String, labels: [String: String],
                         runtime: MultiHostRuntime) async throws -> String {
        var spec = ContainerSpec(name: name, image: image)
        spec.labels = labels.merging([Labels.node: host.name]) { a, _ in a }
        spec.network = network
        spec.entrypoint = ["sleep", "300"]
        spec.command = []
        runtime.place(node: host.name, container: name, on: host.name)
        _ = try await runtime.createContainer(spec)
        try await runtime.start(name)
        var request = ExecRequest(argv: ["getent", "hosts", target])
        request.timeout = 30
        let result = try await runtime.exec(name, request)
        guard result.code == 0, result.stdout.contains(target) else {
            throw ClusterError(.state, "a probe on \(host.name) (\(host.address)) could not resolve \(target) on \(hosts[0].name) over the overlay network (getent exited \(result.code)\(result.stderr.isEmpty ? "" : ": \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"))")
        }
        return host.name
    }

    private func cleanUp(_ runtime: MultiHostRuntime, containers: [String], network: String) async throws {
        try await runtime.remove(all: containers)
        try await runtime.removeNetwork(network)
    }
}
