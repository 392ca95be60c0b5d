import Foundation

/// `report.html`: one self-contained page (inline CSS, SVG and a few lines of script; nothing
/// loaded from the network) rendered from a run's results and history. The tests with status and
/// time; under each, a timeline with one lane per node (created, up, down, paused), the steps,
/// the waits and execs as marks, and faults as bands; a failed test is open at its failure, with
/// the node log lines of that moment.
public enum TestReportHTML {
    public static func render(_ report: TestReport, history: [HistoryEvent]) -> String {
        let tests = history.filter { $0.kind == "test" }
        var usedTests = Set<Int>()
        var sections: [String] = []
        for (index, result) in report.results.enumerated() where result.status != .listed {
            // The history's test of this result: same file and name, the first not yet taken.
            let event = tests.first { !usedTests.contains($0.id) && $0.name == result.name && ($0.file ?? $0.details["file"]) == result.file }
            if let event { usedTests.insert(event.id) }
            sections.append(section(result, index: index, event: event, history: history))
        }
        let failedFirst = report.results.firstIndex { $0.status.isFailure }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>ccm-lua: \(escape(report.countsLine))</title>
        <style>\(css)\(workloadCSS)</style></head>
        <body class="\(report.passed ? "passed" : "failed")">
        <header><h1>\(report.passed ? "✓" : "✗") \(escape(report.countsLine))</h1>
        <p>in \(escape(TestReport.formatDuration(report.duration))) · seed \(report.seed) (repeat the run with <code>--seed \(report.seed)</code>)</p></header>
        <main>
        \(sections.joined(separator: "\n"))
        </main>
        <footer>Lanes: <span class="key created">created</span> <span class="key up">up</span> <span class="key down">down</span> <span class="key paused">paused</span> <span class="key fault">fault</span> · ◆ exec · ● wait · bars above the lanes: steps. Hover for details.</footer>
        <script>\(workloadScript)</script>
        <script>\(failedFirst.map { "document.getElementById('test-\($0)').scrollIntoView();" } ?? "")</script>
        </body></html>
        """
    }

    // MARK: One test

    static func section(_ result: TestResult, index: Int, event: HistoryEvent?, history: [HistoryEvent]) -> String {
        let status = result.status.rawValue
        var body = ""
        if result.status.isFailure {
            body += "<div class=\"failure\" id=\"failure-\(index)\">"
            if let message = result.message { body += "<pre class=\"message\">\(escape(message))</pre>" }
            if let step = result.step { body += "<p class=\"step\">in step <b>\(escape(step))</b></p>" }
            body += "</div>"
        }
        var brokenWorkload = false
        if let event {
            body += timeline(of: event, failed: result.status.isFailure, history: history)
            let file = event.file ?? event.details["file"]
            let sameFile = history.filter { ($0.file ?? $0.details["file"]) == file }
            let during = HistoryFile.events(of: event, in: sameFile)
            body += workloads(of: event, during: during, sameFile: sameFile)
            brokenWorkload = PublishedWorkload.all(in: during).contains { $0.verdict?.valid == .invalid }
        }
        if result.status.isFailure {
            body += "<div class=\"failure\">"
            if let traceback = result.traceback { body += "<pre class=\"traceback\">\(escape(traceback))</pre>" }
            // The nodes' last lines when the test failed: what they were saying at that moment.
            for tail in result.logs ?? [] where !tail.lines.isEmpty {
                body += "<div class=\"log\"><h4>log lines of \(escape(tail.node)) at the failure</h4><pre>\(escape(tail.lines.joined(separator: "\n")))</pre></div>"
            }
            body += "</div>"
        }
        // A history found not linearizable is worth seeing even when the test expected it.
        let open = result.status.isFailure || brokenWorkload ? " open" : ""
        return """
        <details class="test \(status)" id="test-\(index)"\(open)>
        <summary><span class="status">\(escape(label(result.status)))</span> <span class="name">\(escape(result.displayName))</span> <span class="file">\(escape(result.file))</span> <span class="time">\(result.status == .pending ? "" : escape(TestReport.formatDuration(result.duration)))</span></summary>
        \(body)
        </details>
        """
    }

    static func label(_ status: TestStatus) -> String {
        switch status {
        case .passed: "passed"
        case .failed: "failed"
        case .errored: "error"
        case .timedOut: "timed out"
        case .pending: "pending"
        case .listed: "listed"
        }
    }

    // MARK: The timeline

    /// A node's state over time, replayed from the lifecycle operations.
    struct Segment { var state: String; var from: UInt64; var to: UInt64 }

    static func timeline(of test: HistoryEvent, failed: Bool, history: [HistoryEvent]) -> String {
        let t0 = test.start
        let t1 = max(test.end ?? history.compactMap { $0.end ?? $0.start }.max() ?? t0, t0 + 1)
        let file = test.file ?? test.details["file"]
        let sameFile = history.filter { ($0.file ?? $0.details["file"]) == file }
        let during = HistoryFile.events(of: test, in: sameFile)
        // Lanes: every node touched during the test, and the nodes of clusters alive during it.
        var states: [String: String] = [:]
        var segments: [String: [Segment]] = [:]
        var lanes: [String] = []
        func lane(_ cluster: String?, _ node: String) -> String { cluster.map { "\($0)/\(node)" } ?? node }
        func set(_ key: String, _ state: String?, at time: UInt64) {
            if let current = states[key], var list = segments[key], let last = list.indices.last, list[last].to == UInt64.max {
                list[last].to = time
                if current == state { return }
                segments[key] = list
            }
            states[key] = state
            if let state { segments[key, default: []].append(Segment(state: state, from: time, to: UInt64.max)) }
            if !lanes.contains(key) && time <= t1 { lanes.append(key) }
        }
        for e in sameFile where e.start <= t1 && (e.kind == "cluster" || e.kind == "node") {
            let ok = e.error == nil
            let done = e.end ?? e.start
            for node in e.targets {
                let key = lane(e.cluster, node)
                switch (e.kind, e.name) {
                case ("cluster", "create"), ("node", "create"): if ok { set(key, "created", at: done) }
                case ("node", "start"), ("node", "resume"): if ok { set(key, "up", at: done) }
                case ("node", "stop"), ("node", "kill"): if ok { set(key, "down", at: done) }
                case ("node", "pause"): if ok { set(key, "paused", at: done) }
                case ("cluster", "remove"): set(key, nil, at: e.start)
                default: break
                }
            }
        }
        // Lanes of nodes gone before the test began are not shown.
        lanes = lanes.filter { key in (segments[key] ?? []).contains { $0.to >= t0 } || during.contains { lane($0.cluster, $0.node ?? "") == key } }
        for e in during where (e.kind == "exec" || e.kind == "wait") {
            if let node = e.node, !lanes.contains(lane(e.cluster, node)) { lanes.append(lane(e.cluster, node)) }
        }

        // Room on the left for the longest lane name (about 6.5 px a character at 11 px).
        let longest = lanes.map(\.count).max() ?? 4
        let width = 1000.0, left = min(360, max(80, Double(longest) * 6.5 + 14)), right = 12.0, laneHeight = 24.0
        let steps = during.filter { $0.kind == "step" }
        let stepRows = stepLevels(steps)
        let stepHeight = 16.0
        let top = 18.0 + Double(stepRows.count > 0 ? (stepRows.values.max() ?? 0) + 1 : 0) * stepHeight
        let height = top + Double(max(lanes.count, 1)) * laneHeight + 22
        func x(_ t: UInt64) -> Double {
            let clamped = min(max(t, t0), t1)
            return left + (width - left - right) * Double(clamped - t0) / Double(t1 - t0)
        }
        func seconds(_ t: UInt64) -> String { String(format: "%.2f s", Double(Int64(t) - Int64(t0)) / 1e9) }
        func span(_ e: HistoryEvent) -> String {
            let took = e.end.map { " (\(TestReport.formatDuration(Double($0 - e.start) / 1e9)))" } ?? " (did not end)"
            let outcome = [e.result, e.error.map { "error: \($0)" }].compactMap { $0 }.joined(separator: ", ")
            return "at \(seconds(e.start))\(took)\(outcome.isEmpty ? "" : " — \(outcome)")"
        }
        var svg = "<svg class=\"timeline\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" role=\"img\" aria-label=\"timeline of \(escape(test.name))\">"
        // Time axis
        let total = Double(t1 - t0) / 1e9
        let tick = niceTick(total)
        var s = 0.0
        while s <= total + 1e-9 {
            let px = left + (width - left - right) * s / max(total, 1e-9)
            svg += "<line class=\"grid\" x1=\"\(f(px))\" y1=\"\(f(top - 4))\" x2=\"\(f(px))\" y2=\"\(f(height - 18))\"/><text class=\"axis\" x=\"\(f(px))\" y=\"\(f(height - 5))\">\(String(format: tick < 1 ? "%.1f s" : "%.0f s", s))</text>"
            s += tick
        }
        // Steps
        for e in steps {
            let row = Double(stepRows[e.id] ?? 0)
            let x0 = x(e.start), x1 = max(x(e.end ?? t1), x0 + 2)
            svg += "<g class=\"step\(e.error != nil ? " error" : "")\"><title>step \(escape(e.name)) \(escape(span(e)))</title><rect x=\"\(f(x0))\" y=\"\(f(4 + row * stepHeight))\" width=\"\(f(x1 - x0))\" height=\"\(f(stepHeight - 3))\" rx=\"2\"/><text x=\"\(f(x0 + 3))\" y=\"\(f(4 + row * stepHeight + 10))\">\(escape(e.name))</text></g>"
        }
        // Lanes
        for (i, key) in lanes.enumerated() {
            let y = top + Double(i) * laneHeight
            svg += "<g class=\"lane\" data-node=\"\(escape(key))\"><text class=\"lane-name\" x=\"\(f(left - 6))\" y=\"\(f(y + 15))\">\(escape(key))</text>"
            for seg in segments[key] ?? [] where seg.to >= t0 && seg.from <= t1 {
                let x0 = x(seg.from), x1 = x(min(seg.to, t1))
                svg += "<rect class=\"state \(seg.state)\" x=\"\(f(x0))\" y=\"\(f(y + 5))\" width=\"\(f(max(x1 - x0, 1)))\" height=\"\(f(laneHeight - 10))\"><title>\(escape(key)) \(seg.state) from \(seconds(seg.from))</title></rect>"
            }
            svg += "</g>"
        }
        // Faults: bands over the lanes of the nodes they hit
        for e in during.filter({ $0.kind == "fault" }) + sameFile.filter({ $0.kind == "fault" && $0.start < t0 && ($0.end ?? UInt64.max) > t0 }) {
            let rows = e.targets.compactMap { node in lanes.firstIndex(of: lane(e.cluster, node)) }
            let x0 = x(e.start), x1 = max(x(e.end ?? t1), x0 + 2)
            let label = "fault \(e.name)\(e.details["groups"].map { " \($0)" } ?? "") \(span(e))"
            for row in rows.isEmpty ? Array(lanes.indices) : rows {
                let y = top + Double(row) * laneHeight
                svg += "<rect class=\"fault\" data-fault=\"\(escape(e.name))\" x=\"\(f(x0))\" y=\"\(f(y + 1))\" width=\"\(f(x1 - x0))\" height=\"\(f(laneHeight - 2))\"><title>\(escape(label))</title></rect>"
            }
        }
        // Execs and waits as marks on their node's lane
        for e in during where e.kind == "exec" || e.kind == "wait" {
            guard let node = e.node, let row = lanes.firstIndex(of: lane(e.cluster, node)) else { continue }
            let y = top + Double(row) * laneHeight + laneHeight / 2
            let x0 = x(e.start), x1 = x(e.end ?? t1)
            let cls = "\(e.kind)\(e.error != nil || (e.result ?? "").hasPrefix("exit ") && e.result != "exit 0" ? " bad" : "")"
            let shape = e.kind == "exec"
                ? "<path d=\"M\(f(x0)) \(f(y - 5)) l5 5 l-5 5 l-5 -5 z\"/>"
                : "<circle cx=\"\(f(x0))\" cy=\"\(f(y))\" r=\"4\"/>"
            svg += "<g class=\"mark \(cls)\"><title>\(e.kind) \(escape(e.name)) on \(escape(node)) \(escape(span(e)))</title><line x1=\"\(f(x0))\" y1=\"\(f(y))\" x2=\"\(f(x1))\" y2=\"\(f(y))\"/>\(shape)</g>"
        }
        if failed {
            let xe = x(t1)
            svg += "<line class=\"failure-line\" x1=\"\(f(xe))\" y1=\"2\" x2=\"\(f(xe))\" y2=\"\(f(height - 18))\"><title>the test failed here</title></line>"
        }
        svg += "</svg>"
        return "<div class=\"timeline-box\">\(svg)</div>"
    }

    /// Nested steps on rows of their own: a step starting inside another goes one row below it.
    static func stepLevels(_ steps: [HistoryEvent]) -> [Int: Int] {
        var levels: [Int: Int] = [:]
        var open: [(end: UInt64, level: Int)] = []
        for e in steps.sorted(by: { $0.start < $1.start }) {
            open.removeAll { $0.end <= e.start }
            let level = (0...).first { l in !open.contains { $0.level == l } } ?? 0
            levels[e.id] = level
            open.append((e.end ?? UInt64.max, level))
        }
        return levels
    }

    static func niceTick(_ total: Double) -> Double {
        for step in [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600] where total / step <= 10 { return step }
        return 1200
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    static let css = """
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
    header{padding:14px 24px;color:#fff;background:#2e7d4f}body.failed header{background:#b3261e}
    header h1{margin:0;font-size:20px}header p{margin:4px 0 0;opacity:.9}code{font:12px ui-monospace,monospace}
    main{padding:12px 24px}details.test{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:6px 0}
    summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:baseline}
    summary .status{font-weight:600;min-width:70px}summary .name{flex:1;font-weight:500}summary .file,summary .time{color:#5b6472;font-size:12px}
    details.passed .status{color:#2e7d4f}details.failed .status,details.errored .status,details.timed_out .status{color:#b3261e}details.pending .status{color:#8a6d00}
    details.failed,details.errored,details.timed_out{border-left:4px solid #b3261e}
    .failure{padding:0 12px 6px}pre{background:#f3f4f6;padding:8px;border-radius:4px;overflow:auto;font:12px/1.4 ui-monospace,monospace;margin:6px 0}
    pre.message{background:#fdecea;color:#7a1b14;white-space:pre-wrap}.log h4{margin:8px 0 0;font-size:12px;color:#5b6472}
    .timeline-box{padding:4px 12px 10px}svg.timeline{background:#fff;font:11px system-ui,sans-serif}
    .grid{stroke:#eceff3}.axis{fill:#8a93a0;text-anchor:middle}.lane-name{fill:#1d2330;text-anchor:end}
    .state.created{fill:#cfd8e3}.state.up{fill:#3f9c6a}.state.down{fill:#d9534f}.state.paused{fill:#f0ad4e}
    rect.fault{fill:#7b3fa0;fill-opacity:.22;stroke:#7b3fa0;stroke-opacity:.6}
    .step rect{fill:#dbe7fb;stroke:#6d8fd0}.step.error rect{fill:#f8d7d5;stroke:#b3261e}.step text{fill:#1d3a6e}
    .mark line{stroke:#1d2330;stroke-width:1.5}.mark path,.mark circle{fill:#fff;stroke:#1d2330;stroke-width:1.5}
    .mark.bad path,.mark.bad circle{fill:#b3261e;stroke:#b3261e}.failure-line{stroke:#b3261e;stroke-width:2;stroke-dasharray:4 3}
    footer{padding:8px 24px 24px;color:#5b6472;font-size:12px}.key{display:inline-block;padding:0 6px;border-radius:3px;color:#fff}
    .key.created{background:#cfd8e3;color:#1d2330}.key.up{background:#3f9c6a}.key.down{background:#d9534f}.key.paused{background:#f0ad4e}.key.fault{background:#7b3fa0}
    """
}
