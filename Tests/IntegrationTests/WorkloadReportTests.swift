import Foundation
import Testing
import Core

/// report.html's history view in a real browser (Debian's headless Chromium): 10k operations
/// drawn per key, the broken operation named, and how long the page takes.
@Suite struct WorkloadReportTests {
    @Test func tenThousandOperationsDrawQuicklyWithTheBrokenOneNamed() throws {
        let chromium = try Browser.chromium()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-workload-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let (report, history) = Self.report(pairs: 10_000, keys: 5, processes: 10)
        let html = TestReportHTML.render(report, history: history)
        let page = folder.appendingPathComponent("report.html")
        try Data(html.utf8).write(to: page)
        let began = Date()
        let dom = try chromium.dumpDOM(page)
        let seconds = Date().timeIntervalSince(began)

        // Every key's canvas was drawn (the failed test is open at load), with all its bars.
        for key in 0..<5 {
            #expect(dom.contains("data-key=\"k\(key)\" data-ops=\"2000\" data-drawn=\"2000\""), "k\(key)")
        }
        #expect(dom.contains("<p class=\"failed-op\">cannot be linearized: process 9 read k4 nil → ok 999"), "\(dom.prefix(1500))")
        #expect(dom.contains("not linearizable"))
        let drawTimes = dom.components(separatedBy: "data-draw-ms=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
        #expect(drawTimes.count == 5)
        let total = drawTimes.reduce(0, +)
        print("report.html with 10k operations: \(html.utf8.count / 1024) KiB; drawing 5 keys took \(String(format: "%.1f", total)) ms in Chromium; load and dump \(String(format: "%.2f", seconds)) s")
        #expect(total < 2000, "drawing 10k bars should take well under 2 s, took \(total) ms")
        let shot = Browser.keptScreenshot("workload-report.png")
        try chromium.screenshot(page, to: shot)
        print("the history view as Chromium shows it: \(shot.path)")
    }

    /// One failed test with a workload of `pairs` operations over `keys` keys and `processes`
    /// processes under a partition; its last read returns a value never written.
    static func report(pairs: Int, keys: Int, processes: Int) -> (TestReport, [HistoryEvent]) {
        let run = History()
        let start: UInt64 = 1_000_000_000
        let test = run.begin(at: start, kind: "test", name: "register", targets: [], details: ["file": "w_spec.lua"])
        let recorder = WorkloadRecorder()
        var time = start + 1_000_000
        var failed: ClientOperation?
        for i in 0..<pairs {
            let isRead = i % 2 == 1, last = i == pairs - 1
            time += 100_000
            let op = try! recorder.invoke(process: .client(i % processes), f: isRead ? "read" : "write", key: "k\(i % keys)",
                                          value: isRead ? .none : .integer(Int64(i)), at: time)
            try! recorder.complete(op, kind: i % 13 == 4 && !last ? .fail : .ok, value: isRead ? .integer(last ? 999 : Int64(i - 1)) : nil,
                                   at: time + 250_000)
            if last { failed = recorder.history.operations.last }
        }
        let fault = run.begin(at: start + 100_000_000, kind: "fault", name: "partition", targets: ["node1", "node2", "node3"],
                              details: ["cluster": "c", "groups": "node1 | node2 node3"])
        run.end(fault, at: start + 600_000_000)
        recorder.publish(to: run, verdict: WorkloadVerdict(model: "etcd", result: LinearizabilityResult(
            valid: .invalid, keys: ["k\((pairs - 1) % keys)": .init(valid: .invalid, failedOperation: failed)])))
        run.end(test, at: time + 1_000_000, result: "failed")
        let history = HistoryFile.gather([(file: "w_spec.lua", events: run.events)])
        let result = TestResult(file: "w_spec.lua", name: "register", status: .failed, duration: 1, message: "not linearizable")
        return (TestReport(seed: 1, results: [result], duration: 1), history)
    }
}
