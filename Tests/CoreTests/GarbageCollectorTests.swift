import Foundation
import Testing
import Core
import CoreTesting

/// What `gc` may remove: only clusters that are not kept and whose owner process is gone, judged by
/// the record in this state directory, else by the labels; and what `rm` of an unrecorded name does.
@Suite struct GarbageCollectorTests {
    /// A pid no process has (above Linux's largest pid_max).
    static let deadPID: Int32 = 5_000_000

    static func store() -> StateStore {
        StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-gc-\(UUID().uuidString)"))
    }

    static func container(_ fake: FakeContainerRuntime, _ cluster: String, keep: String?, owner: Int32) async throws {
        var spec = ContainerSpec(name: "\(cluster)-node1", image: "img:1")
        spec.labels = [Labels.cluster: cluster, Labels.ownerPID: String(owner), Labels.run: "r"]
        if let keep { spec.labels[Labels.keep] = keep }
        _ = try await fake.createContainer(spec)
        try await fake.createNetwork(NetworkSpec(name: "ccm-lua-\(cluster)", labels: [Labels.cluster: cluster]))
    }

    /// A cluster created through Core (so its record is real), then made to look owned by `owner`.
    static func recorded(_ name: String, keep: Bool, owner: Int32, fake: FakeContainerRuntime, store: StateStore) async throws {
        let node = NodeSpec(name: "node1", index: 1, plan: NodePlan(image: "img:1"))
        _ = try await Cluster.create(ClusterSpec(name: name, profile: "generic", image: "img:1", keep: keep, nodes: [node]),
                                     runtime: fake, store: store)
        var record = try store.load(name)
        record.ownerPID = owner
        try store.save(record)
    }

    @Test func removesOnlyUnkeptClustersOfDeadOwners() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        try await Self.container(fake, "labelled-orphan", keep: "false", owner: Self.deadPID)
        try await Self.container(fake, "labelled-kept", keep: "true", owner: Self.deadPID)
        try await Self.container(fake, "unlabelled", keep: nil, owner: Self.deadPID)
        try await Self.container(fake, "alive", keep: "false", owner: getpid())
        try await Self.recorded("rec-orphan", keep: false, owner: Self.deadPID, fake: fake, store: store)
        try await Self.recorded("rec-kept", keep: true, owner: Self.deadPID, fake: fake, store: store)

        let removed = try await GarbageCollector(runtime: fake, store: store).collect()
        #expect(removed.map(\.cluster) == ["labelled-orphan", "rec-orphan"])
        #expect(removed.allSatisfy { $0.containers == 1 && $0.networks == 1 && $0.ownerPID == Self.deadPID })
        #expect(removed.map(\.state) == [false, true])
        #expect(fake.containerNames == ["alive-node1", "labelled-kept-node1", "rec-kept-node1", "unlabelled-node1"])
        #expect(store.list() == ["rec-kept"])
        #expect(try await GarbageCollector(runtime: fake, store: store).collect().isEmpty)
    }

    @Test func keptClustersAreLabelledSoOtherStateDirectoriesSeeIt() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        try await Self.recorded("k", keep: true, owner: Self.deadPID, fake: fake, store: store)
        try await Self.recorded("t", keep: false, owner: Self.deadPID, fake: fake, store: store)
        #expect(fake.container("k-node1")?.spec.labels[Labels.keep] == "true")
        #expect(fake.container("t-node1")?.spec.labels[Labels.keep] == "false")
        // Another state directory has no record of either: the labels decide, and they name this
        // (living) process as the owner. The dead-owner case by labels is the test above.
        #expect(try await GarbageCollector(runtime: fake, store: Self.store()).collect().isEmpty)
    }

    @Test func rmOfAnUnrecordedNameRemovesItsLabelledResources() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let store = Self.store()
        try await Self.container(fake, "stray", keep: nil, owner: Self.deadPID)
        let inventory = ClusterInventory(store: store) { _ in fake }
        let removals = try await inventory.remove("stray")
        // The fake serves both engines: the first finds the resources, the second nothing more.
        #expect(removals.count == 1)
        #expect(removals.first?.containers == ["stray-node1"] && removals.first?.networks == ["ccm-lua-stray"])
        #expect(try await inventory.remove("stray").isEmpty)
    }
}
