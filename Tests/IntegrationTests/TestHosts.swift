import Foundation
import Synchronization
import Testing
import Core

/// The engines of multi-host tests on this one machine: the host's Docker as swarm manager and two
/// Docker engines in containers as workers (`scripts/test-hosts`, docs/test-hosts.md).
///
/// `TestHosts.shared()` starts them once per test process, on first use, and they are removed when
/// the process exits, also after failed tests. A test process killed outright leaves them up; the
/// next `up` replaces them, or `scripts/test-hosts down` removes them.
struct TestHosts: Sendable {
    /// The swarm manager: the host's own engine, e.g. `unix:///var/run/docker.sock`.
    let manager: String
    /// The inner engines, `tcp://IP:2375`, on a private network of this machine.
    let inner: [String]

    /// Every engine, manager first.
    var all: [String] { [manager] + inner }

    static let image = "ccm-lua-test/engine-host:bookworm"
    static let nettoolsImage = "ccm-lua-test/nettools:bookworm"
    static let count = 2

    /// A Docker client for one of the engines.
    func runtime(_ address: String) -> CLIContainerRuntime {
        CLIContainerRuntime(engine: .docker, environment: ["DOCKER_HOST": address])
    }

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/test-hosts").path

    /// Cold `up 2` took 24–30 s on the two shared cores (docs/test-hosts.md); a process that waits for
    /// another one's hosts may wait for that process's whole run.
    static let upLimit: Double = 300
    static let downLimit: Double = 120
    static let lockWait: Double = 900

    private enum State { case down, starting(Task<TestHosts, any Error>), up(TestHosts) }
    private static let state = Mutex<State>(.down)
    /// The open script while this process holds its lock; closed only at exit.
    private static let lockFD = Mutex<Int32>(-1)

    /// The hosts, started now if they are not up. Docker and the images missing: skipped, or a
    /// failure under CI=true (as for every integration test); Podman-only runs skip it.
    static func shared() async throws -> TestHosts {
        _ = try await Integration.runtime(.docker, images: [image, Integration.baseImage, Integration.etcdImage, nettoolsImage])
        let task: Task<TestHosts, any Error> = state.withLock { state in
            switch state {
            case .up(let hosts): return Task { hosts }
            case .starting(let task): return task
            case .down:
                let task = Task { try await start() }
                state = .starting(task)
                return task
            }
        }
        do {
            let hosts = try await task.value
            state.withLock { $0 = .up(hosts) }
            return hosts
        } catch {
            state.withLock { if case .starting = $0 { $0 = .down } }
            throw error
        }
    }

    /// Removes the hosts now (they are started again by the next `shared()`); throws when `down`
    /// failed. The lock stays with this process.
    static func down() async throws {
        let output = try await ProcessRunner.run([script, "down"], environment: heldLock, timeout: downLimit)
        state.withLock { $0 = .down }
        guard output.code == 0 else {
            throw Failure("scripts/test-hosts down failed (exit \(output.code)):\n\(output.stderrText)")
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    /// Tells the script that this process holds its lock, so its own commands do not wait for it.
    private static let heldLock = ["CCM_LUA_TEST_HOSTS_LOCK_HELD": "1"]

    private static func start() async throws -> TestHosts {
        try await takeLock()
        let output = try await ProcessRunner.run([script, "up", String(count)], environment: heldLock, timeout: upLimit)
        guard output.code == 0 else {
            throw Failure("scripts/test-hosts up \(count) failed (exit \(output.code)):\n\(output.stderrText)")
        }
        var values: [String: String] = [:]
        for line in output.stdoutText.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        guard let manager = values["CCM_LUA_TEST_MANAGER"],
              let inner = values["CCM_LUA_TEST_HOSTS"]?.split(separator: ",").map(String.init), inner.count == count else {
            throw Failure("scripts/test-hosts up \(count) printed no addresses:\n\(output.stdoutText)\(output.stderrText)")
        }
        return TestHosts(manager: manager, inner: inner)
    }

    /// Takes the script's lock for the rest of this process (the kernel releases it when the process
    /// ends, however it ends), and removes the hosts at exit.
    private static func takeLock() async throws {
        if lockFD.withLock({ $0 }) >= 0 { return }
        let fd = open(script, O_RDONLY | O_CLOEXEC)   // not inherited by the programs tests start
        guard fd >= 0 else { throw Failure("cannot open \(script): \(String(cString: strerror(errno)))") }
        let deadline = ContinuousClock.now + .seconds(lockWait)
        var said = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard ContinuousClock.now < deadline else {
                close(fd)
                throw Failure("another process kept the test hosts for \(Int(lockWait)) s; find it with `fuser \(script)`")
            }
            if !said {
                FileHandle.standardError.write(Data("waiting for another process using the test hosts (lock on \(script))\n".utf8))
                said = true
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        lockFD.withLock { $0 = fd }
        atexit { TestHosts.downAtExit() }
    }

    /// At exit no async work can run: spawn `down` and wait for it.
    private static func downAtExit() {
        if case .down = state.withLock({ $0 }) { return }
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(script), strdup("down"), nil]
        let pairs = ProcessInfo.processInfo.environment.merging(heldLock) { $1 }.map { "\($0.key)=\($0.value)" }
        let env: [UnsafeMutablePointer<CChar>?] = pairs.map { strdup($0) } + [nil]
        defer { (argv + env).forEach { free($0) } }
        guard posix_spawn(&pid, script, nil, nil, argv, env) == 0 else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}
