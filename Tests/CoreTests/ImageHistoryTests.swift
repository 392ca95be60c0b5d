import Foundation
import Testing
import Core
import CoreTesting

/// The run's history names the exact image every node ran, so a failure can be reproduced.
@Suite struct ImageHistoryTests {
    @Test func nodeStartsAndAddedNodesNameTheImageTheyRun() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let name = "imgh-\(UUID().uuidString.prefix(8).lowercased())"
        let store = StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-imgh-\(UUID().uuidString)"))
        defer { try? FileManager.default.removeItem(at: store.home) }
        let cluster = try await Cluster.create(
            ClusterSpec(name: name, profile: "generic", image: "img:1", nodes: [NodeSpec(name: "node1", index: 1, plan: NodePlan(image: "img:1"))]),
            runtime: fake, store: store)
        try await cluster.start()
        try await cluster.addNode(NodeSpec(name: "node2", index: 2, plan: NodePlan(image: "img:1")))
        try await cluster.remove()

        let id = try await fake.inspectImage("img:1").id
        let events = History.run.events.filter { $0.cluster == name }
        // The create names it too: a node that never starts is still pinned.
        let create = try #require(events.first { $0.kind == "cluster" && $0.name == "create" }, "\(events)")
        #expect(create.details["image"] == "img:1" && create.details["image_id"] == id, "\(create.details)")
        let start = try #require(events.first { $0.kind == "node" && $0.name == "start" && $0.node == "node1" }, "\(events)")
        #expect(start.details["image"] == "img:1" && start.details["image_id"] == id, "\(start.details)")
        let added = try #require(events.first { $0.kind == "node" && $0.name == "create" && $0.node == "node2" }, "\(events)")
        #expect(added.details["image"] == "img:1" && added.details["image_id"] == id, "\(added.details)")
    }
}
