import Foundation
import Testing
import Core
import CoreTesting

/// Starting nodes against a scripted engine: how long a start waits, a readiness probe that cannot
/// run, and what status and ip say of a node that stopped.
@Suite struct ClusterStartTests {
    static func cluster(_ name: String, readiness: Readiness, fake: FakeContainerRuntime) async throws -> (Cluster, StateStore) {
        let store = StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-start-\(UUID().uuidString)"))
        var plan = NodePlan(image: "img:1")
        plan.readiness = readiness
        let spec = ClusterSpec(name: name, profile: "generic", image: "img:1", nodes: [NodeSpec(name: "node1", index: 1, plan: plan)])
        return (try await Cluster.create(spec, runtime: fake, store: store), store)
    }

    /// "Could not check" is not "not yet": a probe whose program is missing will never pass.
    @Test func aProbeThatCannotRunEndsTheWaitAtOnce() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let (cluster, store) = try await Self.cluster("probe", readiness: Readiness(probe: ["healthcheck"]), fake: fake)
        defer { try? FileManager.default.removeItem(at: store.home) }
        fake.scriptExec(["healthcheck"], .error(.execFailed))
        let began = ContinuousClock.now
        let error = try await #require(throws: ClusterError.self) { try await cluster.start(timeout: 60) }
        #expect(ContinuousClock.now - began < .seconds(10))
        #expect(error.kind == .config)
        #expect(error.message.contains("node1") && error.message.contains("healthcheck") && error.message.contains("cannot run"))
        try await cluster.remove()
    }

    /// A profile's ready.timeout is start's default; the script's own timeout wins.
    @Test func aProfilesReadyTimeoutIsTheDefaultAndTheScriptsWins() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        var readiness = Readiness(logPattern: "never printed")
        readiness.timeout = 0.4
        let (cluster, store) = try await Self.cluster("deflt", readiness: readiness, fake: fake)
        defer { try? FileManager.default.removeItem(at: store.home) }
        let byProfile = try await #require(throws: ClusterError.self) { try await cluster.start() }
        #expect(byProfile.kind == .timeout && byProfile.message.contains("within 0.4 s"), "\(byProfile.message)")
        try await cluster.stop(gently: false)   // a running node would count as ready at once
        let byScript = try await #require(throws: ClusterError.self) { try await cluster.start(timeout: 0.3) }
        #expect(byScript.message.contains("within 0.3 s"), "\(byScript.message)")
        try await cluster.remove()
    }

    /// `probe_after_log = false`: the line this start printed is proof enough; a node that was
    /// running already printed its line long ago, so the probe checks it.
    @Test func aFreshReadyLineCanStandInForTheProbe() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        var readiness = Readiness(logPattern: "ready to serve", probe: ["health"])
        readiness.probeAfterLog = false
        let (cluster, store) = try await Self.cluster("fresh", readiness: readiness, fake: fake)
        defer { try? FileManager.default.removeItem(at: store.home) }
        let container = try await cluster.node("node1").container
        let start = Task { try await cluster.start(timeout: 30) }
        let deadline = ContinuousClock.now + .seconds(30)
        while fake.calls("start").isEmpty, ContinuousClock.now < deadline { await Task.yield() }
        fake.emitLog(container, "ready to serve client requests")
        try await start.value
        #expect(fake.calls("exec").isEmpty, "the probe ran after a fresh ready line: \(fake.calls("exec"))")

        try await cluster.start(timeout: 30)   // running already: no new line comes
        #expect(fake.calls("exec").map { Array($0.arguments.dropFirst()) } == [["health"]])
        try await cluster.remove()
    }

    /// `c:status()` and `n:ip()` agree: a node that is not running has no address.
    @Test func statusAndIPAgreeOnAStoppedNode() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let (cluster, store) = try await Self.cluster("ip", readiness: Readiness(), fake: fake)
        defer { try? FileManager.default.removeItem(at: store.home) }
        try await cluster.start()
        let running = try await cluster.status()
        #expect(running.first?.ip != nil)
        #expect(running.first?.ip == (try await cluster.ip(of: "node1")))
        fake.exitContainer(try await cluster.node("node1").container, code: 1)
        let stopped = try await cluster.status()
        #expect(stopped.first?.state == .exited)
        #expect(stopped.first?.ip == nil)
        #expect(try await cluster.ip(of: "node1") == nil)
        try await cluster.remove()
    }
}
