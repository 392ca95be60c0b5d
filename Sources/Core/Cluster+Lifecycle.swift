import Foundation

/// Where a start stands, for progress output: which nodes are ready, which are still awaited.
public struct StartProgress: Sendable {
    public var ready: [String]
    public var waiting: [String]
    public var elapsed: Double
}

extension Cluster {
    /// Starts nodes (all by default) in the cluster's start order; with `wait`, returns once every
    /// one is ready by its profile's readiness, or throws `.timeout` naming the nodes that are not,
    /// or `.exited` at once when a node's container stops meanwhile. Without a `timeout`, the
    /// longest of the nodes' `readiness.timeout`, else `Defaults.startTimeout`.
    public func start(nodes names: [String]? = nil, wait: Bool = true, timeout: Double? = nil,
                      progress: (@Sendable (StartProgress) -> Void)? = nil) async throws {
        // One operation per node, ended when that node is ready (the others may take longer).
        let history = History.run
        let started = Dictionary(uniqueKeysWithValues: (names ?? nodeNames).map {
            ($0, history.begin(kind: "node", name: "start", targets: [$0],
                               details: (try? node($0)).map(imageDetails(of:)) ?? ["cluster": name]))
        })
        let endReady: @Sendable (StartProgress) -> Void = { now in
            for node in now.ready { if let id = started[node] { history.end(id) } }
            progress?(now)
        }
        do {
            try await startUnrecorded(nodes: names, wait: wait, timeout: timeout, progress: endReady)
            for id in started.values { history.end(id) }
        } catch {
            for id in started.values { history.end(id, result: "error", error: History.errorKind(error)) }
            throw error
        }
    }

    private func startUnrecorded(nodes names: [String]?, wait: Bool, timeout: Double?,
                                 progress: (@Sendable (StartProgress) -> Void)?) async throws {
        for name in names ?? nodeNames { try await recreateIfStopped(name) }
        let nodes = try (names ?? nodeNames).map { try node($0) }
        let timeout = timeout ?? nodes.compactMap(\.plan.readiness.timeout).max() ?? Defaults.startTimeout
        let deadline = ContinuousClock.now + .seconds(timeout)
        let began = ContinuousClock.now
        let tracker = ReadyTracker(waiting: nodes.map(\.name), began: began, progress: progress)
        // Every node's state is read up front, in one call: in the orders that start nodes one
        // after another, an engine call before each start would delay the next node's start.
        let states = try await currentStates(of: nodes)
        // A node that is up already will not print its ready line again: only its probe counts.
        let up = Set(nodes.filter { states[$0.name] == .running || states[$0.name] == .paused }.map(\.name))
        // Addresses are read while the nodes come up, in one engine call once no start is left
        // that it could slow down (Podman serialises much of its work).
        var addresses: Task<Void, Never>?
        defer { addresses?.cancel() }
        func launched(_ nodes: [NodeRecord]) { addresses = Task { await self.refreshIPs(nodes.map(\.name)) } }

        switch wait ? record.startOrder : .parallel {
        case .oneByOne:
            for node in nodes {
                let mark = try await launch(node, state: states[node.name])
                launched([node])
                try await becomeReady(node, from: mark, wasUp: up.contains(node.name), deadline: deadline, timeout: timeout,
                                      tracker: tracker)
            }
        case .sequential:
            // One engine call starts them all in order; the log followers begin once it returns
            // (they resume from the logs' start, so no line is missed), so their engine calls do
            // not slow the starts down.
            var marks: [String: Int64] = [:]
            for node in nodes { marks[node.name] = try log(of: node.name).mark() }
            for node in nodes where states[node.name] == .paused { try await runtime.unpause(node.container) }
            let stopped = nodes.filter { states[$0.name] != .running && states[$0.name] != .paused }
            try await runtime.start(inOrder: stopped.map(\.container))
            for node in stopped { try await faults.nodeStarted(node.name) }
            for node in nodes { try log(of: node.name).follow() }
            launched(nodes)
            try await waitAll(nodes, marks: marks, up: up, wait: wait, deadline: deadline, timeout: timeout, tracker: tracker)
        case .parallel:
            let marks = try await withThrowingTaskGroup(of: (String, Int64).self) { group in
                for node in nodes { group.addTask { (node.name, try await self.launch(node, state: states[node.name])) } }
                var marks: [String: Int64] = [:]
                for try await (node, mark) in group { marks[node] = mark }
                return marks
            }
            launched(nodes)
            try await waitAll(nodes, marks: marks, up: up, wait: wait, deadline: deadline, timeout: timeout, tracker: tracker)
        }
        await addresses?.value
    }

    /// The nodes' container states, from one listing of the cluster's containers (a node whose
    /// container is missing has none: its start then fails with the engine's "no such container").
    private func currentStates(of nodes: [NodeRecord]) async throws -> [String: ContainerState] {
        // Containers this process created and never started need no asking.
        if nodes.allSatisfy({ neverStarted.contains($0.name) }) {
            neverStarted.subtract(nodes.map(\.name))
            return Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, ContainerState.created) })
        }
        neverStarted.subtract(nodes.map(\.name))
        let listed = try await runtime.listContainers(labels: [Labels.cluster: name])
        var states: [String: ContainerState] = [:]
        for node in nodes {
            if let c = listed.first(where: { $0.name == node.container }) { states[node.name] = c.state }
        }
        return states
    }

    private func waitAll(_ nodes: [NodeRecord], marks: [String: Int64], up: Set<String>, wait: Bool, deadline: ContinuousClock.Instant,
                         timeout: Double, tracker: ReadyTracker) async throws {
        guard wait else { return }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for node in nodes {
                    group.addTask {
                        try await self.becomeReady(node, from: marks[node.name] ?? 0, wasUp: up.contains(node.name),
                                                   deadline: deadline, timeout: timeout, tracker: tracker)
                    }
                }
                try await group.waitForAll()
            }
        } catch let error as ClusterError where error.kind == .timeout {
            // The first node's own reason (which log line, or what the probe said) tells the user
            // what to look at; without it "not ready" is all they would get.
            let notReady = tracker.waiting
            throw ClusterError(.timeout, "cluster '\(name)': \(notReady.joined(separator: ", ")) not ready within \(formatSeconds(timeout)); \(error.message)",
                               node: error.node ?? notReady.first, lastLines: error.lastLines)
        } catch var error as ClusterError where error.kind == .exited {
            error.message = "cluster '\(name)': start failed: \(error.message)"
            throw error
        }
    }

    /// Starts the container (from `state`, read just before) and the log follower; returns the
    /// log mark taken just before, so the readiness wait sees only this start's lines.
    private func launch(_ node: NodeRecord, state: ContainerState?) async throws -> Int64 {
        let log = try log(of: node.name)
        let mark = log.mark()
        switch state {
        case .running: break
        case .paused: try await runtime.unpause(node.container)
        default:
            try await runtime.start(node.container)
            try await faults.nodeStarted(node.name)   // a new namespace: active faults go in again
        }
        log.follow()
        return mark
    }

    /// Waits for the node's readiness: its log line (from `mark`), then its probe until it passes
    /// (unless the profile says this start's line is proof enough).
    private func becomeReady(_ node: NodeRecord, from mark: Int64, wasUp: Bool, deadline: ContinuousClock.Instant, timeout: Double,
                             tracker: ReadyTracker) async throws {
        let readiness = node.plan.readiness
        let remaining = { max(0, (deadline - ContinuousClock.now).seconds) }
        var sawFreshLine = false
        if let pattern = readiness.logPattern, !wasUp {
            _ = try await log(of: node.name).wait(for: try LogPattern(pattern, plain: readiness.plain), from: mark,
                                                  timeout: remaining(), nodeName: node.name)
            sawFreshLine = true
        }
        if let probe = readiness.probe, !(sawFreshLine && readiness.probeAfterLog == false) {
            var last: ExecResult?
            while true {
                var request = ExecRequest(argv: probe)
                request.timeout = max(1, min(10, remaining()))
                do {
                    let result = try await runtime.exec(node.container, request)
                    if result.code == 0 { break }
                    last = result
                } catch let error as RuntimeError where error.kind == .timeout {
                    // The probe itself hung: not ready yet.
                } catch let error as RuntimeError {
                    // The probe could not run at all: a stopped container says why; a missing
                    // program will not appear by a later try; other engine trouble is reported.
                    try await log(of: node.name).failIfStopped(nodeName: node.name, waitingFor: "its readiness probe")
                    guard error.kind == .execFailed else { throw error }
                    throw ClusterError(.config, "\(node.name): readiness probe `\(probe.joined(separator: " "))` cannot run: \(error.summary)",
                                       node: node.name, lastLines: (try? log(of: node.name).tail(10)) ?? [])
                }
                guard remaining() > readiness.probeInterval else {
                    let said = last.map { " (last try exited \($0.code): \(($0.stderr + $0.stdout).trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)))" } ?? ""
                    throw ClusterError(.timeout, "\(node.name): readiness probe `\(probe.joined(separator: " "))` did not pass within \(formatSeconds(timeout))\(said)",
                                       node: node.name, lastLines: (try? log(of: node.name).tail(10)) ?? [])
                }
                try await Task.sleep(for: .seconds(readiness.probeInterval))
            }
        }
        tracker.markReady(node.name)
    }

    /// Stops nodes (all by default) concurrently: gently (SIGTERM, then KILL after `timeout`) or at once.
    public func stop(nodes names: [String]? = nil, gently: Bool = true, timeout: Double = Defaults.stopTimeout) async throws {
        let nodes = try (names ?? nodeNames).map { try node($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes {
                group.addTask {
                    try await History.run.record(kind: "node", name: "stop", targets: [node.name], details: ["cluster": self.name]) {
                        let state = try await self.runtime.inspect(node.container).state
                        guard state == .running || state == .paused || state == .restarting else { return }
                        if gently { try await self.runtime.stop(node.container, timeout: timeout) }
                        else { try await self.runtime.kill(node.container, signal: "KILL") }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    public func kill(node: String, signal: String = "KILL") async throws {
        try await History.run.record(kind: "node", name: "kill", targets: [node], details: ["cluster": name, "signal": signal]) {
            try await runtime.kill(try self.node(node).container, signal: signal)
        }
    }

    public func pause(node: String) async throws {
        try await History.run.record(kind: "node", name: "pause", targets: [node], details: ["cluster": name]) {
            try await runtime.pause(try self.node(node).container)
        }
    }

    public func resume(node: String) async throws {
        try await History.run.record(kind: "node", name: "resume", targets: [node], details: ["cluster": name]) {
            try await runtime.unpause(try self.node(node).container)
        }
    }

    public func exec(node: String, _ request: ExecRequest) async throws -> ExecResult {
        try await History.run.record(kind: "exec", name: ShellCommand.display(request.argv), targets: [node],
                                     details: ["cluster": name], result: { "exit \($0.code)" }) {
            do { return try await runtime.exec(try self.node(node).container, request) }
            catch { throw MissingShell.explain(error, argv: request.argv, node: node) }
        }
    }

    public func putFile(node: String, path: String, content: [UInt8]) async throws {
        try await runtime.copyIn(try self.node(node).container, content: content, to: path)
    }

    public func getFile(node: String, path: String) async throws -> [UInt8] {
        try await runtime.copyOut(try self.node(node).container, from: path)
    }
}

/// Which nodes became ready, shared by the concurrent readiness waits of one start.
final class ReadyTracker: Sendable {
    private let state: Mutex<(ready: [String], waiting: [String])>
    private let began: ContinuousClock.Instant
    private let progress: (@Sendable (StartProgress) -> Void)?

    init(waiting: [String], began: ContinuousClock.Instant, progress: (@Sendable (StartProgress) -> Void)?) {
        self.state = Mutex(([], waiting))
        self.began = began
        self.progress = progress
        progress?(StartProgress(ready: [], waiting: waiting, elapsed: 0))
    }

    var waiting: [String] { state.withLock { $0.waiting } }

    func markReady(_ node: String) {
        let now = state.withLock { s -> (ready: [String], waiting: [String]) in
            s.waiting.removeAll { $0 == node }
            s.ready.append(node)
            return s
        }
        progress?(StartProgress(ready: now.ready, waiting: now.waiting, elapsed: (ContinuousClock.now - began).seconds))
    }
}

import Synchronization

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
