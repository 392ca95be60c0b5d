import Foundation

/// A container next to the database nodes on the cluster network: a manager, a loader, a web front.
public struct ServiceSpec: Sendable {
    public var name: String
    public var image: String
    public var env: [String: String] = [:]
    public var command: [String]?
    public var entrypoint: [String]?
    public var volumes: [Mount] = []
    public var ports: [PortMapping] = []
    public init(name: String, image: String) { self.name = name; self.image = image }
}

/// What a one-shot container did.
public struct RunOnceResult: Sendable {
    public var code: Int32
    /// Its stdout and stderr as the engine logged them, in order.
    public var output: String
    public var duration: Double
}

extension Cluster {
    /// Starts a service container on the cluster network, reachable there by `spec.name`.
    /// It is labelled with the cluster and removed with it.
    @discardableResult
    public func addService(_ spec: ServiceSpec) async throws -> String {
        guard !record.nodes.contains(where: { $0.name == spec.name }), !record.services.contains(spec.name) else {
            throw ClusterError(.usage, "cluster '\(name)' has a node or service named '\(spec.name)' already")
        }
        try await Cluster.ensureImages([spec.image], runtime: runtime)
        var c = containerSpec(named: Cluster.containerName(name, spec.name), image: spec.image, alias: spec.name)
        c.env = spec.env
        c.command = spec.command
        c.entrypoint = spec.entrypoint
        c.mounts = spec.volumes
        c.ports = spec.ports
        let id = try await runtime.createContainer(c)
        record.services.append(spec.name)
        try store.save(record)
        try await runtime.start(id)
        return c.name
    }

    /// Runs a container on the cluster network to completion (an init job) and returns its exit code
    /// and output; the container is removed afterwards. Throws `.timeout` (and removes it) when it
    /// runs longer than `timeout` seconds.
    public func runOnce(image: String, command: [String]?, entrypoint: [String]? = nil, env: [String: String] = [:],
                        timeout: Double = 300) async throws -> RunOnceResult {
        try await Cluster.ensureImages([image], runtime: runtime)
        var c = containerSpec(named: "\(name)-once-\(UInt32.random(in: 0...UInt32.max))", image: image, alias: nil)
        c.command = command
        c.entrypoint = entrypoint
        c.env = env
        return try await runToCompletion(c, timeout: timeout)
    }

    private func containerSpec(named container: String, image: String, alias: String?) -> ContainerSpec {
        var c = ContainerSpec(name: container, image: image)
        c.labels = Labels.forResource(cluster: name, node: alias, keep: record.keep)
        c.network = record.network
        if let alias { c.networkAliases = [alias]; c.hostname = alias }
        return c
    }

    /// Creates, starts and follows a container's log until it exits (the log stream ends with the
    /// process), then reads its exit code and removes it.
    func runToCompletion(_ spec: ContainerSpec, timeout: Double) async throws -> RunOnceResult {
        let started = ContinuousClock.now
        let id = try await runtime.createContainer(spec)
        do {
            try await runtime.start(id)
            let output = try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    var text = ""
                    for try await line in self.runtime.logs(id, since: nil, follow: true) { text += line.text + "\n" }
                    return text
                }
                group.addTask { try await Task.sleep(for: .seconds(timeout)); return nil }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let text = first else {
                    throw ClusterError(.timeout, "one-shot container \(spec.name) (\(spec.image)) did not finish within \(formatSeconds(timeout))")
                }
                return text
            }
            // The log stream can end a moment before the engine records the exit.
            var info = try await runtime.inspect(id)
            let settle = ContinuousClock.now + .seconds(10)
            while info.state == .running, ContinuousClock.now < settle {
                try await Task.sleep(for: .milliseconds(20))
                info = try await runtime.inspect(id)
            }
            try await runtime.remove(id)
            return RunOnceResult(code: info.exitCode, output: output, duration: (ContinuousClock.now - started).seconds)
        } catch {
            try? await runtime.remove(id)
            throw error
        }
    }
}
