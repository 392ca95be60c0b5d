@testable import Core
import Foundation
import Testing

/// Core's side of workload histories: the recorder's rules, faults as nemesis operations, and the
/// way a workload reaches report.html through the run's history (also across workers' files).
@Suite struct WorkloadHistoryTests {
    @Test func theRecorderKeepsJepsensRules() throws {
        let r = WorkloadRecorder()
        let a = try r.invoke(process: .client(0), f: "write", key: "k", value: .integer(1), at: 10)
        #expect(throws: WorkloadRecorder.UsageError.self) { try r.invoke(process: .client(0), f: "read", key: "k", value: .none, at: 11) }
        try r.complete(a, kind: .ok, value: nil, at: 12)
        #expect(throws: WorkloadRecorder.UsageError.self) { try r.complete(a, kind: .ok, value: nil, at: 13) }
        let b = try r.invoke(process: .client(1), f: "read", key: "k", value: .none, at: 14)
        try r.complete(b, kind: .info, value: nil, error: "timeout", at: 15)
        #expect(throws: WorkloadRecorder.UsageError.self) { try r.invoke(process: .client(1), f: "read", key: "k", value: .none, at: 16) }
        #expect(r.nextProcess(after: 1, concurrency: 5) == 6)
        #expect(r.nextProcess(after: 6, concurrency: nil) == 7)
        let ops = r.history.operations
        #expect(ops.map(\.kind) == [.invoke, .ok, .invoke, .info])
        #expect(ops.map(\.index) == [0, 1, 2, 3])
        #expect(ops[1].value == .integer(1), "an ok with no value repeats the write's value")
        #expect(ops[3].error == "timeout" && ops[3].time == 15)
    }

    @Test func faultsDuringTheWorkloadBecomeNemesisInfoOperations() throws {
        let r = WorkloadRecorder()
        for (i, t) in [UInt64(100), 300].enumerated() {
            let op = try r.invoke(process: .client(i), f: "read", key: nil, value: .none, at: t)
            try r.complete(op, kind: .ok, value: .integer(0), at: t + 50)
        }
        let events = [
            HistoryEvent(id: 1, kind: "fault", name: "partition", targets: ["node1", "node2", "node3"],
                         details: ["groups": "node1 | node2 node3"], start: 120, end: 320),
            HistoryEvent(id: 2, kind: "fault", name: "pause", targets: ["node2"], start: 10, end: 20),  // before: left out
            HistoryEvent(id: 3, kind: "exec", name: "etcdctl", targets: ["node1"], start: 130, end: 140),
        ]
        let merged = WorkloadFaults.merged(r.history, events: events)
        #expect(merged.operations.map { "\($0.process.text) \($0.kind) \($0.f)" } == [
            "0 invoke read", "nemesis invoke start-partition", "nemesis info start-partition", "0 ok read",
            "1 invoke read", "nemesis invoke stop-partition", "nemesis info stop-partition", "1 ok read",
        ])
        #expect(merged.operations.map(\.index) == Array(0..<8))
        #expect(merged.operations[1].value == .string("node1 | node2 node3"))
    }

    @Test func aPublishedWorkloadTravelsThroughTheRunsHistoryFileWithItsVerdict() throws {
        let run = History()
        let r = WorkloadRecorder()
        let w = try r.invoke(process: .client(0), f: "write", key: "x", value: .map(["a": .list([.integer(1), .double(2.5), .string("</script>")])]))
        try r.complete(w, kind: .ok, value: nil)
        let read = try r.invoke(process: .client(1), f: "read", key: "x", value: .none)
        try r.complete(read, kind: .ok, value: .bool(true))
        r.publish(to: run)
        let failed = r.history.operations[3]
        r.publish(to: run, verdict: WorkloadVerdict(model: "etcd", result: LinearizabilityResult(
            valid: .invalid, keys: ["x": .init(valid: .invalid, linearized: [], failedOperation: failed)])))
        #expect(run.events.filter { $0.kind == "workload" }.count == 1, "published again, shown once")
        // Through a worker's history file and the parent's gathering, as `ccm-lua test` does.
        let gathered = HistoryFile.gather([(file: "a_spec.lua", events: HistoryFile.decode(HistoryFile.encode(run.events)))])
        let workload = try #require(PublishedWorkload.all(in: gathered).first)
        #expect(workload.name == "history-\(r.number)")
        #expect(workload.operations == r.history.operations)
        #expect(workload.verdict?.valid == .invalid && workload.verdict?.model == "etcd" && workload.verdict?.failed == ["x": 3])
    }

    @Test func theReportShowsOneViewPerKeyWithTheBrokenOperationNamed() throws {
        let (report, history) = Self.reportWithWorkload(operations: 40, keys: 2, processes: 3, failing: true)
        let html = TestReportHTML.render(report, history: history)
        #expect(html.components(separatedBy: "<div class=\"history-key\"").count - 1 == 2)
        #expect(html.contains("data-key=\"k0\" data-ops=\"20\"") && html.contains("data-key=\"k1\" data-ops=\"20\""))
        #expect(html.contains("<span class=\"verdict invalid\">not linearizable</span>"))
        #expect(html.contains("<p class=\"failed-op\">cannot be linearized: process 3 read k1 nil → ok 999 · 39.0 ms to 41.5 ms</p>"), "\(html.suffix(3000))")
        #expect(html.contains("\"x\":1"), "the failed bar is marked for the drawing")
        #expect(html.contains("fault partition"))
        #expect(!html.contains("http://") && !html.contains("https://"), "self-contained")
        let (passed, passedHistory) = Self.reportWithWorkload(operations: 10, keys: 1, processes: 2, failing: false)
        #expect(!TestReportHTML.render(passed, history: passedHistory).contains("<details class=\"test passed\" id=\"test-0\" open>"))
    }

    @Test func aLoadedHistoryIsShownWhenCheckedAtTheMomentItWasLoaded() throws {
        let jepsen = OperationHistory([
            ClientOperation(index: 0, kind: .invoke, process: .client(0), f: "write", value: .integer(1), time: 0),
            ClientOperation(index: 1, kind: .ok, process: .client(0), f: "write", value: .integer(1), time: 5_000_000),
        ])
        let loaded = WorkloadRecorder(jepsen)
        let run = History()
        WorkloadRecorder.publishAll(to: run)
        #expect(!run.events.contains { $0.name == "history-\(loaded.number)" }, "not published unless checked")
        loaded.publish(to: run, verdict: WorkloadVerdict(model: "register", result: LinearizabilityResult(valid: .valid, keys: [:])))
        let event = try #require(run.events.first { $0.name == "history-\(loaded.number)" })
        #expect(event.start == loaded.created && event.end == loaded.created)
    }

    @Test func aPassedTestWhoseHistoryIsNotLinearizableIsOpen() {
        var (report, history) = Self.reportWithWorkload(operations: 10, keys: 1, processes: 2, failing: true)
        report.results[0].status = .passed
        report.results[0].message = nil
        let html = TestReportHTML.render(report, history: history)
        #expect(html.contains("<details class=\"test passed\" id=\"test-0\" open>"), "the stale read must be seen without a click")
    }

    /// A report whose one test recorded a workload of `operations` invoke/complete pairs over
    /// `keys` keys and `processes` processes under a partition; with `failing`, the last read of
    /// the last key returns a value never written and the check says so.
    static func reportWithWorkload(operations: Int, keys: Int, processes: Int, failing: Bool) -> (TestReport, [HistoryEvent]) {
        let run = History()
        let start: UInt64 = 1_000_000_000
        let test = run.begin(at: start, kind: "test", name: "register", targets: [], details: ["file": "w_spec.lua"])
        let r = WorkloadRecorder()
        var time = start + 1_000_000
        var failedIndex = 0
        var current = Array(0..<processes)  // a worker's process; a new one after an info
        for i in 0..<operations {
            let p = current[i % processes]
            let key = "k\(i % keys)"
            let isRead = i % 2 == 1
            time += 1_000_000
            let op = try! r.invoke(process: .client(p), f: isRead ? "read" : "write", key: key, value: isRead ? .none : .integer(Int64(i)), at: time)
            let last = i == operations - 1
            let kind: ClientOperation.Kind = i % 7 == 3 ? .fail : (i % 11 == 5 ? .info : .ok)
            try! r.complete(op, kind: last ? .ok : kind, value: isRead ? .integer(last && failing ? 999 : Int64(i - 1)) : nil, at: time + 2_500_000)
            if kind == .info && !last { current[i % processes] = r.nextProcess(after: p, concurrency: processes) }
            if last { failedIndex = r.count - 1 }
        }
        run.begin(at: start + 5_000_000, kind: "fault", name: "partition", targets: ["node1", "node2", "node3"],
                  details: ["cluster": "c", "groups": "node1 | node2 node3"])
        run.end(run.events.last!.id, at: time / 2 + start / 2)
        r.publish(to: run, verdict: failing ? WorkloadVerdict(model: "etcd", result: LinearizabilityResult(
            valid: .invalid, keys: ["k\((operations - 1) % keys)": .init(valid: .invalid, failedOperation: r.history.operations[failedIndex])]))
            : WorkloadVerdict(model: "etcd", result: LinearizabilityResult(valid: .valid, keys: [:])))
        run.end(test, at: time + 10_000_000, result: failing ? "failed" : "passed")
        let history = HistoryFile.gather([(file: "w_spec.lua", events: run.events)])
        let result = TestResult(file: "w_spec.lua", name: "register", status: failing ? .failed : .passed, duration: 1,
                                message: failing ? "not linearizable" : nil)
        return (TestReport(seed: 1, results: [result], duration: 1), history)
    }
}
