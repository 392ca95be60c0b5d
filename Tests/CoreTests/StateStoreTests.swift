import Foundation
import Testing
@testable import Core

@Suite struct StateStoreTests {
    func temporaryStore() throws -> StateStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-state-\(UUID().uuidString)")
        return StateStore(home: dir)
    }

    func record(_ name: String) -> ClusterRecord {
        var plan = NodePlan(image: "ccm-lua-test/etcd:3.4")
        plan.command = ["etcd", "--name", "node1"]
        plan.readiness = Readiness(logPattern: "ready to serve client requests")
        return ClusterRecord(name: name, engine: .docker, profile: "etcd", image: plan.image, network: "ccm-lua-\(name)",
                             startOrder: .sequential, keep: true, runID: "abc", ownerPID: 42, createdAt: Date(timeIntervalSince1970: 1000),
                             nodes: [NodeRecord(name: "node1", index: 1, dc: nil, container: "\(name)-node1", plan: plan,
                                                config: .map([("a", .int(1))]), ip: "10.0.0.2", imageID: "sha256:1")])
    }

    @Test func savesLoadsAndLists() throws {
        let store = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: store.home) }
        try store.claim("alpha")
        try store.save(record("alpha"))
        #expect(try store.load("alpha") == record("alpha"))
        #expect(store.list() == ["alpha"])
        try store.delete("alpha")
        #expect(store.list() == [])
    }

    /// Records written before the owner's host was kept still load; their host is unknown.
    @Test func aRecordWithoutOwnerHostLoads() throws {
        let store = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: store.home) }
        try store.claim("old")
        try store.save(record("old"))
        let file = store.clusterDirectory("old").appendingPathComponent("cluster.json")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        #expect(json["ownerHost"] as? String == Labels.hostIdentity)
        json["ownerHost"] = nil
        try JSONSerialization.data(withJSONObject: json).write(to: file)
        #expect(try store.load("old").ownerHost == nil)
    }

    @Test func claimingATakenNameIsAUsageError() throws {
        let store = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: store.home) }
        try store.claim("beta")
        let error = try #require(throws: ClusterError.self) { try store.claim("beta") }
        #expect(error.kind == .usage)
        #expect(error.message.contains("exists already"))
    }

    @Test func missingClusterNamesTheOnesThatExist() throws {
        let store = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: store.home) }
        try store.claim("gamma"); try store.save(record("gamma"))
        let error = try #require(throws: ClusterError.self) { try store.load("delta") }
        #expect(error.kind == .notFound)
        #expect(error.message.contains("gamma"))
    }

    @Test func homeComesFromTheEnvironment() {
        #expect(StateStore.fromEnvironment(["CCM_LUA_HOME": "/x/y"]).home.path == "/x/y")
        #expect(StateStore.fromEnvironment(["HOME": "/home/u"]).home.path == "/home/u/.ccm-lua")
    }

    @Test(arguments: ["", "-a", "Upper", "a_b", String(repeating: "a", count: 41), "a b"])
    func badClusterNames(_ name: String) {
        #expect(throws: ClusterError.self) { try Cluster.validate(name: name) }
    }

    @Test(arguments: ["a", "etcd-3", "0abc", String(repeating: "a", count: 40)])
    func goodClusterNames(_ name: String) throws {
        try Cluster.validate(name: name)
    }
}
