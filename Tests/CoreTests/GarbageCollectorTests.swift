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

    /// Another machine's (or pid namespace's) identity.
    static let otherHost = "0123456789abcdef0123456789abcdef/4026531836"

    static func container(_ fake: FakeContainerRuntime, _ cluster: String, keep: String?, owner: Int32,
                          host: String = Labels.hostIdentity) async throws {
        var spec = ContainerSpec(name: "\(cluster)-node1", image: "img:1")
        spec.labels = [Labels.cluster: cluster, Labels.ownerPID: String(owner), Labels.ownerHost: host, Labels.run: "r"]
        if let keep { spec.labels[Labels.keep] = keep }
        _ = try await fake.createContainer(spec)
        try await fake.createNetwork(NetworkSpec(name: "ccm-lua-\(cluster)", labels: [Labels.cluster: cluster]))
    }

    /// A cluster created through Core (so its record is real), then made to look owned by `owner`.
    static func recorded(_ name: String, keep: Bool, owner: Int32, host: String? = Labels.hostIdentity,
                         fake: FakeContainerRuntime, store: StateStore) async throws {
        let node = NodeSpec(name: "node1", index: 1, plan: NodePlan(image: "img:1"))
        _ = try await Cluster.create(ClusterSpec(name: name, profile: "generic", image: "img:1", keep: keep, nodes: [node]),
                                     runtime: fake, store: store)
        var record = try store.load(name)
        record.ownerPID = owner
        record.ownerHost = host
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

    /// An engine shared with other machines (remote DOCKER_HOST) or pid namespaces (CI jobs): their
    /// pids mean nothing here, so their clusters stay, dead-looking pid or not.
    @Test func ownersRecordedByAnotherHostAreNeverJudged() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        try await Self.container(fake, "elsewhere", keep: "false", owner: Self.deadPID, host: Self.otherHost)
        try await Self.container(fake, "unknown-host", keep: "false", owner: Self.deadPID, host: "")
        try await Self.container(fake, "here", keep: "false", owner: Self.deadPID)
        try await Self.recorded("rec-elsewhere", keep: false, owner: Self.deadPID, host: Self.otherHost, fake: fake, store: store)
        try await Self.recorded("rec-here", keep: false, owner: Self.deadPID, fake: fake, store: store)
        // A record written before hosts were kept: judged by its pid, as then.
        try await Self.recorded("rec-old", keep: false, owner: Self.deadPID, host: nil, fake: fake, store: store)

        let removed = try await GarbageCollector(runtime: fake, store: store).collect()
        #expect(removed.map(\.cluster) == ["here", "rec-here", "rec-old"])
        #expect(fake.containerNames == ["elsewhere-node1", "rec-elsewhere-node1", "unknown-host-node1"])
        #expect(store.list() == ["rec-elsewhere"])
    }

    @Test func newClustersRecordAndLabelThisHost() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        try await Self.recorded("mine", keep: false, owner: getpid(), fake: fake, store: store)
        #expect(try store.load("mine").ownerHost == Labels.hostIdentity)
        #expect(fake.container("mine-node1")?.spec.labels[Labels.ownerHost] == Labels.hostIdentity)
        // A machine id, then this pid namespace's inode.
        #expect(Labels.hostIdentity.split(separator: "/").count == 2)
        #expect(Labels.hostIdentity.split(separator: "/").last?.allSatisfy(\.isNumber) == true)
    }

    /// After a double Ctrl-C the script's own cleanup may still be removing the containers when gc
    /// runs: Docker then refuses the second `rm`. gc waits for them to go and removes the rest.
    @Test(arguments: [true, false])
    func removalInProgressElsewhereIsWaitedFor(recorded: Bool) async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        if recorded {
            try await Self.recorded("racing", keep: false, owner: Self.deadPID, fake: fake, store: store)
        } else {
            try await Self.container(fake, "racing", keep: "false", owner: Self.deadPID)
        }
        fake.removeElsewhere("racing-node1")

        let removed = try await GarbageCollector(runtime: fake, store: store).collect()
        #expect(removed.map(\.cluster) == ["racing"])
        #expect(fake.containerNames.isEmpty)
        #expect(fake.networkNames.isEmpty)
        #expect(store.list().isEmpty)
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
