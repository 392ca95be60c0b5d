import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Cleanup that survives a crash, with no extra image and no daemon.
///
/// The first time a ccm-lua process is about to create a resource, it starts a small child (the
/// same binary, hidden subcommand `__reaper`) connected to it by a socket pair: the child reads
/// lines from it. The owner names each engine it uses ("engine docker") and, when it ends
/// normally (exit, Ctrl-C, SIGTERM: all run `exit`), says "bye". When the connection closes
/// without a goodbye, the owner died without its cleanup (SIGKILL, a crash): the reaper waits a
/// short grace period, then removes every container, network and volume labelled with the owner's
/// run id, except those of kept clusters, and their state folders. See docs/runner.md.
public final class Reaper: Sendable {
    public static let shared = Reaper()

    private struct State {
        var enabled = false
        /// Our end of the connection; -1 before the reaper runs.
        var socket: Int32 = -1
        /// What the reaper was told to sweep: engine names, and addresses of the hosts of
        /// clusters across hosts.
        var announced: Set<String> = []
        var problem: String?
    }
    private let state = Mutex(State())

    /// `CCM_LUA_REAPER=off` leaves a process without a reaper: what it leaves after SIGKILL
    /// waits for `ccm-lua gc` (for debugging a crash, and for testing gc itself).
    public static let switchVariable = "CCM_LUA_REAPER"

    /// The command line turns the reaper on (unit tests and programs that embed Core do not),
    /// unless the environment turns it off.
    public func enable(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard environment[Self.switchVariable] != "off" else { return }
        state.withLock { $0.enabled = true }
    }

    /// Before this process creates something on `engine`: starts the reaper the first time and
    /// tells it about the engine. A reaper that cannot start is reported once, never fatal.
    /// As `watch(_:)` for every engine of a cluster that spans several hosts: the reaper then sweeps
    /// each of them ("host ADDRESS" lines).
    public func watch(hosts: [EngineHost]) {
        for host in hosts { announce("host \(host.address)", key: host.address) }
    }

    public func watch(_ engine: Engine) { announce("engine \(engine.rawValue)", key: engine.rawValue) }

    private func announce(_ line: String, key: String) {
        let warning: String? = state.withLock { state in
            guard state.enabled, !state.announced.contains(key) else { return nil }
            if state.socket < 0 {
                guard state.problem == nil else { return nil }
                do { state.socket = try start() } catch {
                    state.problem = "\(error)"
                    return "ccm-lua: warning: no reaper (\(error)); if this process is killed, `ccm-lua gc` removes what it left\n"
                }
                atexit { Reaper.shared.goodbye() }
            }
            state.announced.insert(key)
            send(line + "\n", on: state.socket)
            return nil
        }
        if let warning { FileHandle.standardError.write(Data(warning.utf8)) }
    }

    /// The owner ends normally: the reaper leaves without removing anything.
    public func goodbye() {
        state.withLock { state in
            guard state.socket >= 0 else { return }
            send("bye\n", on: state.socket)
            close(state.socket)
            state.socket = -1
        }
    }

    private func start() throws -> Int32 {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw ChildProcessError(argv: ["socketpair"], problem: String(cString: strerror(errno)))
        }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(pair[1]); if null >= 0 { close(null) } }
        do {
            _ = try ChildProcess.spawn(
                [ChildProcess.currentExecutable, "__reaper", "--run", Labels.runID, "--owner", Labels.ownerPIDValue],
                files: [0: pair[1], 1: null >= 0 ? null : 1, 2: 2], newSession: true)
        } catch {
            close(pair[0])
            throw error
        }
        return pair[0]
    }

    /// Never SIGPIPE: a reaper that is gone must not take its owner with it.
    private func send(_ text: String, on socket: Int32) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

/// The reaper process itself (`ccm-lua __reaper`).
public enum ReaperProcess {
    public struct Outcome: Sendable, Equatable {
        /// False when the owner said goodbye.
        public var reaped: Bool
        public var removed = ResourceCleanup.Report()
        public var clusters: [String] = []
    }

    /// Reads the owner's lines from `input` until it closes; reaps when no goodbye came.
    public static func run(runID: String, owner: String, input: Int32 = 0, store: StateStore = .fromEnvironment(),
                           runtime: @Sendable (Engine) -> any ContainerRuntime = { EngineDiscovery.runtime(for: $0) },
                           hostRuntime: @Sendable (String) -> any ContainerRuntime = { (try? EngineHost(name: "host", address: $0))?.runtime() ?? EngineDiscovery.runtime(for: .docker) }) async -> Outcome {
        let (engines, hosts, goodbye) = await readOwner(input)
        guard !goodbye else { return Outcome(reaped: false) }
        try? await Task.sleep(for: .seconds(Defaults.reaperGrace))
        var outcome = Outcome(reaped: true)
        let targets = engines.sorted(by: { $0.rawValue < $1.rawValue }).map(runtime) + hosts.map(hostRuntime)
        // Twice: a create the owner had started may land after the first sweep, and an overlay
        // network goes only once the containers on every host are gone.
        for round in 0..<2 {
            if round > 0 { try? await Task.sleep(for: .seconds(Defaults.reaperGrace)) }
            for runtime in targets {
                let report = await sweep(runID: runID, on: runtime, store: store)
                outcome.removed.containers += report.containers
                outcome.removed.networks += report.networks
                outcome.removed.volumes += report.volumes
                outcome.removed.failures += report.failures
            }
        }
        for name in store.list() {
            guard let record = try? store.load(name), record.runID == runID, !record.keep else { continue }
            try? store.delete(name)
            outcome.clusters.append(name)
        }
        let summary = "ccm-lua reaper: process \(owner) ended without cleaning up; removed \(outcome.removed.containers.count) containers, \(outcome.removed.networks.count) networks of run \(runID)"
            + (outcome.clusters.isEmpty ? "" : " (clusters \(outcome.clusters.joined(separator: ", ")))")
            + (outcome.removed.failures.isEmpty ? "" : "; could not remove: \(outcome.removed.failures.joined(separator: "; ")) — try `ccm-lua gc`")
        FileHandle.standardError.write(Data((summary + "\n").utf8))
        return outcome
    }

    /// Removes the run's resources on one engine, except those of kept clusters: kept by label
    /// (created with `keep`, never selected here) or by their record (kept after a failed test).
    /// One `rm` for all containers: Podman's removals are slow one by one, and time counts here.
    static func sweep(runID: String, on runtime: any ContainerRuntime, store: StateStore) async -> ResourceCleanup.Report {
        var report = ResourceCleanup.Report()
        let selector = [Labels.run: runID, Labels.keep: "false"]
        var verdicts: [String: Bool] = [:]
        func kept(_ cluster: String?) -> Bool {
            guard let cluster else { return false }
            if let known = verdicts[cluster] { return known }
            let verdict = (try? store.load(cluster))?.keep == true
            verdicts[cluster] = verdict
            return verdict
        }
        do {
            // The engine's filter selected them; the labels are checked again before removing.
            let containers = try await runtime.listContainers(labels: selector).filter {
                $0.labels[Labels.run] == runID && $0.labels[Labels.keep] == "false" && !kept($0.labels[Labels.cluster])
            }
            if !containers.isEmpty {
                try await runtime.remove(all: containers.map(\.name))
                report.containers = containers.map(\.name)
            }
        } catch { report.failures.append("containers: \(error)") }
        let prefix = Cluster.networkName("")
        for network in (try? await runtime.listNetworks(labels: selector)) ?? []
        where !kept(network.hasPrefix(prefix) ? String(network.dropFirst(prefix.count)) : nil) {
            do { try await runtime.removeNetwork(network); report.networks.append(network) }
            catch { report.failures.append("network \(network): \(error)") }
        }
        for volume in (try? await runtime.listVolumes(labels: selector)) ?? [] {
            do { try await runtime.removeVolume(volume); report.volumes.append(volume) }
            catch { report.failures.append("volume \(volume): \(error)") }
        }
        return report
    }

    /// The engines and host addresses the owner named, and whether it said goodbye, once its end closes.
    static func readOwner(_ input: Int32) async -> (Set<Engine>, [String], Bool) {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let handle = FileHandle(fileDescriptor: input, closeOnDealloc: false)
                var text = ""
                while case let data = handle.availableData, !data.isEmpty { text += String(decoding: data, as: UTF8.self) }
                var engines: Set<Engine> = []
                var hosts: [String] = []
                var goodbye = false
                for line in text.split(separator: "\n") {
                    if line == "bye" { goodbye = true }
                    if line.hasPrefix("host ") { hosts.append(String(line.dropFirst(5))) }
                    if line.hasPrefix("engine "), let engine = Engine(rawValue: String(line.dropFirst(7))) { engines.insert(engine) }
                }
                continuation.resume(returning: (engines, hosts, goodbye))
            }
        }
    }
}
