import Foundation
import Testing
import Core
import CoreTesting

/// The run's history (what Core records, history.jsonl) and the HTML report rendered from it.
@Suite struct HistoryAndReportTests {
    /// The events of one cluster in the process-wide history (other tests record there too).
    static func events(of cluster: String) -> [HistoryEvent] {
        History.run.events.filter { $0.cluster == cluster }
    }

    @Test func clusterOperationsAreRecordedWithNodeResultAndErrorKind() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let name = "hist-\(UUID().uuidString.prefix(8).lowercased())"
        let store = StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-hist-\(UUID().uuidString)"))
        defer { try? FileManager.default.removeItem(at: store.home) }
        let spec = ClusterSpec(name: name, profile: "generic", image: "img:1",
                               nodes: [NodeSpec(name: "node1", index: 1, plan: NodePlan(image: "img:1")),
                                       NodeSpec(name: "node2", index: 2, plan: NodePlan(image: "img:1"))])
        let cluster = try await Cluster.create(spec, runtime: fake, store: store)
        try await cluster.start()
        fake.scriptExec(["false"], .result(code: 1))
        _ = try await cluster.exec(node: "node1", ExecRequest(argv: ["false"]))
        fake.scriptExec(["missing"], .error(.execFailed))
        _ = try? await cluster.exec(node: "node2", ExecRequest(argv: ["missing"]))
        try await cluster.pause(node: "node2")
        try await cluster.resume(node: "node2")
        try await cluster.stop(nodes: ["node1"])
        let waited = try? await cluster.log(of: "node1").wait(for: LogPattern("never"), timeout: 0.05, nodeName: "node1")
        #expect(waited == nil)
        try await cluster.remove()

        let events = Self.events(of: name)
        let seen = events.map { "\($0.kind) \($0.name) \($0.node ?? "-")" }
        #expect(seen == ["cluster create -", "node start node1", "node start node2", "exec false node1", "exec missing node2",
                         "node pause node2", "node resume node2", "node stop node1", "wait never node1", "cluster remove -"])
        for event in events {
            let end = try #require(event.end, "\(event.kind) \(event.name) has no end")
            #expect(event.start <= end)
        }
        #expect(events.first { $0.kind == "exec" && $0.node == "node1" }?.result == "exit 1")
        let failedExec = try #require(events.first { $0.kind == "exec" && $0.node == "node2" })
        #expect(failedExec.result == "error" && failedExec.error == "exec")
        let wait = try #require(events.first { $0.kind == "wait" })
        #expect(wait.error == "exited")  // node1 was stopped: no use waiting
        #expect(events.first?.targets == ["node1", "node2"])
    }

    @Test func errorKindsAreTheOnesScriptsSee() {
        #expect(History.errorKind(ClusterError(.notFound, "x")) == "usage")
        #expect(History.errorKind(ClusterError(.state, "x")) == "runtime")
        #expect(History.errorKind(RuntimeError(.execFailed, engine: .docker, summary: "x", command: [])) == "exec")
        #expect(History.errorKind(RuntimeError(.imageNotFound, engine: .docker, summary: "x", command: [])) == "image")
        #expect(History.errorKind(CancellationError()) == "cancelled")
    }

    @Test func historyFilesRoundTripAndGatherRenumbers() throws {
        let a = [HistoryEvent(id: 1, kind: "test", name: "t1", targets: [], start: 100, end: 900, result: "passed"),
                 HistoryEvent(id: 2, kind: "exec", name: "ls", targets: ["node1"], details: ["cluster": "c"], start: 200, end: 300,
                              result: "exit 0")]
        let b = [HistoryEvent(id: 1, kind: "fault", name: "partition", targets: ["node1", "node2"], details: ["cluster": "d"],
                              start: 150, end: nil)]
        let gathered = HistoryFile.gather([("a.lua", a), ("b.lua", b)])
        #expect(gathered.map(\.id) == [1, 2, 3])
        #expect(gathered.map(\.name) == ["t1", "partition", "ls"])
        #expect(gathered.map(\.file) == ["a.lua", "b.lua", "a.lua"])
        let data = HistoryFile.encode(gathered)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.split(separator: "\n").count == 3)
        #expect(text.contains("\"node\":\"node1\"") && text.contains("\"cluster\":\"c\""))
        #expect(HistoryFile.decode(data) == gathered)
        // A line cut short by a killed worker is skipped, not fatal.
        #expect(HistoryFile.decode(data + Data("{\"id\":4,\"ki".utf8)).count == 3)
        // A test's events: its file's, while it ran.
        #expect(HistoryFile.events(of: gathered[0], in: gathered).map(\.name) == ["ls"])
    }

    // MARK: report.html

    static func sampleRun() -> (TestReport, [HistoryEvent]) {
        let s: UInt64 = 1_000_000_000
        var history: [HistoryEvent] = []
        func add(_ kind: String, _ name: String, _ targets: [String], _ start: UInt64, _ end: UInt64?, result: String? = nil,
                 error: String? = nil, details: [String: String] = ["cluster": "c1"]) {
            history.append(HistoryEvent(id: history.count + 1, kind: kind, name: name, targets: targets, details: details,
                                        start: start, end: end, result: result, error: error, file: "spec/a_spec.lua"))
        }
        add("cluster", "create", ["node1", "node2", "node3"], 1 * s, 2 * s)
        for n in ["node1", "node2", "node3"] { add("node", "start", [n], 2 * s, 3 * s) }
        add("test", "etcd writes <&> reads", [], 3 * s, 6 * s, result: "passed", details: ["file": "spec/a_spec.lua"])
        add("step", "write", [], 3 * s + 100, 4 * s, details: [:])
        add("exec", "etcdctl put k v", ["node1"], 3 * s + 200, 3 * s + 80_000_000, result: "exit 0")
        add("test", "etcd survives a partition", [], 6 * s, 12 * s, result: "failed", details: ["file": "spec/a_spec.lua"])
        add("fault", "partition", ["node1", "node2", "node3"], 7 * s, 9 * s, details: ["cluster": "c1", "groups": "node1 | node2,node3"])
        add("node", "pause", ["node3"], 9 * s, 9 * s + 50_000_000)
        add("wait", "elected leader", ["node2"], 10 * s, 11 * s, result: "error", error: "timeout")
        add("cluster", "remove", ["node1", "node2", "node3"], 12 * s, 13 * s)
        let report = TestReport(seed: 42, results: [
            TestResult(file: "spec/a_spec.lua", name: "etcd writes <&> reads", status: .passed, duration: 3),
            TestResult(file: "spec/a_spec.lua", name: "etcd survives a partition", status: .failed, duration: 6,
                       message: "a_spec.lua:20: expected \"w\", got \"v\"", step: "heal",
                       logs: [NodeLogTail(node: "c1/node2", lines: ["I | raft: became leader at term 3"])]),
            TestResult(file: "spec/a_spec.lua", name: "etcd later", status: .pending),
        ], duration: 13)
        return (report, history)
    }

    @Test func theReportShowsTestsLanesFaultsAndOpensTheFailure() {
        let (report, history) = Self.sampleRun()
        let html = TestReportHTML.render(report, history: history)
        #expect(html.components(separatedBy: "<details class=\"test ").count - 1 == 3)
        #expect(html.contains("<details class=\"test failed\" id=\"test-1\" open>"))
        #expect(html.contains("<details class=\"test passed\" id=\"test-0\">"))
        #expect(html.contains("etcd writes &lt;&amp;&gt; reads"))
        // One lane per node in each timeline that ran.
        #expect(html.components(separatedBy: "<g class=\"lane\" data-node=\"c1/node").count - 1 == 6)
        #expect(html.components(separatedBy: "<rect class=\"fault\"").count - 1 == 3)
        #expect(html.contains("class=\"state paused\""))
        #expect(html.contains("class=\"mark exec\"") && html.contains("class=\"mark wait bad\""))
        #expect(html.contains("I | raft: became leader at term 3"))
        #expect(html.contains("scrollIntoView"))
        // Self-contained: nothing is fetched when the page is viewed.
        for external in ["src=", "href=", "@import", "url("] { #expect(!html.contains(external), "\(external)") }
    }
}
