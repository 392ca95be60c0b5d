import Foundation
import Synchronization

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
    /// What it printed on stdout and on stderr, each in order (the engines do not agree on how
    /// the two interleave, so they are kept apart, as an exec's are).
    public var stdout: String
    public var stderr: String
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
                        timeout: Double = Defaults.runOnceTimeout) async throws -> RunOnceResult {
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
    /// process), then reads its exit code and removes it. Its errors carry what it printed: the
    /// container is gone by the time anyone reads them.
    func runToCompletion(_ spec: ContainerSpec, timeout: Double) async throws -> RunOnceResult {
        let started = ContinuousClock.now
        let id = try await runtime.createContainer(spec)
        let printed = PrintedLines()
        do {
            do {
                try await runtime.start(id)
            } catch var error as RuntimeError {
                // The engine's hint points at `logs` of a container about to be removed: show them.
                var lines: [LogLine] = []
                do { for try await line in runtime.logs(id, since: nil, follow: false) { lines.append(line) } } catch {}
                error.summary = "One-shot container \(spec.name) (\(spec.image)) could not start."
                let said = EngineErrorClassifier.firstLine(error.stderr)
                error.hint = "Check that the image's entrypoint/command exists" + (said.isEmpty ? "" : " (the engine said: \(said))")
                    + (lines.isEmpty ? "; the container printed nothing." : ". The container printed:\n" + Self.excerpt(lines))
                throw error
            }
            let finished = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    for try await line in self.runtime.logs(id, since: nil, follow: true) { printed.lines.withLock { $0.append(line) } }
                    return true
                }
                group.addTask { try await Task.sleep(for: .seconds(timeout)); return false }
                defer { group.cancelAll() }
                return try await group.next() ?? false
            }
            guard finished else {
                let lines = printed.lines.withLock { $0 }
                throw ClusterError(.timeout, "one-shot container \(spec.name) (\(spec.image)) did not finish within \(formatSeconds(timeout))"
                                   + (lines.isEmpty ? "; it printed nothing" : ""),
                                   lastLines: lines.suffix(10).map(\.text))
            }
            // The log stream can end a moment before the engine records the exit.
            var info = try await runtime.inspect(id)
            let settle = ContinuousClock.now + .seconds(10)
            while info.state == .running, ContinuousClock.now < settle {
                try await Task.sleep(for: .milliseconds(20))
                info = try await runtime.inspect(id)
            }
            try await runtime.remove(id)
            let lines = printed.lines.withLock { $0 }
            func text(_ stderr: Bool) -> String { lines.filter { $0.isStderr == stderr }.map { $0.text + "\n" }.joined() }
            return RunOnceResult(code: info.exitCode, stdout: text(false), stderr: text(true),
                                 duration: (ContinuousClock.now - started).seconds)
        } catch {
            try? await runtime.remove(id)
            throw error
        }
    }

    /// The last lines a container printed, indented, for an error message.
    static func excerpt(_ lines: [LogLine], count: Int = 20) -> String {
        lines.suffix(count).map { "    " + ($0.isStderr ? "stderr: " : "stdout: ") + $0.text }.joined(separator: "\n")
    }
}

/// What a one-shot container printed so far, shared with the task that reads it.
private final class PrintedLines: Sendable {
    let lines = Mutex<[LogLine]>([])
}
