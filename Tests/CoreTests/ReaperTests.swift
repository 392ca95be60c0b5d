import Foundation
import Testing
import Core
import CoreTesting

/// The reaper's decisions, with a fake engine: what it removes when its owner vanished without a
/// goodbye (only the run's clusters that are not kept), and that a goodbye removes nothing.
@Suite struct ReaperTests {
    /// This process's run id: Cluster.create labels with it too.
    static let run = Labels.runID

    /// Containers and a network per cluster, labelled as Core labels them.
    static func resources(_ fake: FakeContainerRuntime, cluster: String, run: String, keep: Bool) async throws {
        let labels = [Labels.cluster: cluster, Labels.run: run, Labels.keep: keep ? "true" : "false"]
        for node in ["node1", "node2"] {
            var spec = ContainerSpec(name: "\(cluster)-\(node)", image: "img:1")
            spec.labels = labels.merging([Labels.node: node]) { a, _ in a }
            _ = try await fake.createContainer(spec)
        }
        try await fake.createNetwork(NetworkSpec(name: Cluster.networkName(cluster), labels: labels))
    }

    /// Runs the reaper with `lines` from its owner, then the owner's end closed.
    static func reap(_ lines: String, fake: FakeContainerRuntime, store: StateStore) async throws -> ReaperProcess.Outcome {
        var pair: [Int32] = [0, 0]
        try #require(pipe(&pair) == 0)
        _ = lines.withCString { write(pair[1], $0, strlen($0)) }
        close(pair[1])
        defer { close(pair[0]) }
        return await ReaperProcess.run(runID: run, owner: "4242", input: pair[0], store: store, runtime: { _ in fake })
    }

    static func store() -> StateStore {
        StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-reaper-\(UUID().uuidString)"))
    }

    @Test func removesTheRunsUnkeptClustersOnly() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        try await Self.resources(fake, cluster: "mine", run: Self.run, keep: false)
        try await Self.resources(fake, cluster: "mine-kept", run: Self.run, keep: true)
        try await Self.resources(fake, cluster: "other-run", run: "0000000000ff", keep: false)
        // Kept after it was created (--keep-on-failure): its record says so.
        let node = NodeSpec(name: "node1", index: 1, plan: NodePlan(image: "img:1"))
        let later = try await Cluster.create(ClusterSpec(name: "kept-later", profile: "generic", image: "img:1", nodes: [node]),
                                             runtime: fake, store: store)
        try await later.keepAfterExit()

        let outcome = try await Self.reap("engine docker\n", fake: fake, store: store)
        #expect(outcome.reaped)
        #expect(outcome.removed.containers.sorted() == ["mine-node1", "mine-node2"])
        #expect(outcome.removed.networks == [Cluster.networkName("mine")])
        #expect(!fake.containerNames.contains { $0.hasPrefix("mine-node") })
        #expect(fake.containerNames.contains("mine-kept-node1"))
        #expect(fake.containerNames.contains("kept-later-node1"))
        #expect(fake.containerNames.contains("other-run-node1"))
        #expect(fake.networkNames.contains(Cluster.networkName("other-run")))
    }

    @Test func aGoodbyeRemovesNothing() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        try await Self.resources(fake, cluster: "mine", run: Self.run, keep: false)
        let outcome = try await Self.reap("engine docker\nbye\n", fake: fake, store: store)
        #expect(!outcome.reaped)
        #expect(fake.containerNames.count == 2)
    }

    @Test func noEngineNamedNoEngineTouched() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        try await Self.resources(fake, cluster: "mine", run: Self.run, keep: false)
        let outcome = try await Self.reap("", fake: fake, store: store)
        #expect(outcome.reaped)
        #expect(fake.containerNames.count == 2)
        #expect(fake.calls.isEmpty || !fake.calls.contains { $0.method.hasPrefix("remove") })
    }
}
