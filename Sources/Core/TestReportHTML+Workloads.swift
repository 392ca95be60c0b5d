import Foundation

/// The history view of report.html: for each workload a test recorded (`require "ccm.history"`),
/// one panel per key with one lane per process, each operation a bar from its invocation to its
/// completion (ok, fail and info styled apart; an info or never-completed bar runs to the end),
/// the run's faults as bands, and, for a failed check, the operation that cannot be placed
/// highlighted and named in words.
///
/// Bars are drawn on a canvas by one small script from data embedded in the page, and only when
/// the test's panel is open: 10k operations would be 10k SVG elements.
extension TestReportHTML {
    /// One drawable bar.
    struct Bar: Encodable {
        /// Lane (index into `lanes`), start and end in ms from the view's start (end -1: runs to the end).
        var l: Int
        var s: Double
        var e: Double
        /// "ok", "fail", "info" or "open".
        var t: String
        /// What a person reads when pointing at it.
        var d: String
        /// 1 for the operation that broke the check.
        var x: Int?
    }

    struct Band: Encodable { var s: Double; var e: Double; var d: String }

    struct KeyView: Encodable {
        var key: String
        var lanes: [String]
        var span: Double
        var bars: [Bar]
        var faults: [Band]
    }

    static func workloads(of test: HistoryEvent, during: [HistoryEvent], sameFile: [HistoryEvent]) -> String {
        let published = PublishedWorkload.all(in: during)
        guard !published.isEmpty else { return "" }
        // Faults of the test, and those already active when it began.
        let faults = sameFile.filter { $0.kind == "fault" && $0.start <= (test.end ?? .max) && ($0.end ?? .max) >= test.start }
        return published.map { workloadView($0, faults: faults) }.joined(separator: "\n")
    }

    static func workloadView(_ workload: PublishedWorkload, faults: [HistoryEvent]) -> String {
        let ops = workload.operations.filter { if case .client = $0.process { true } else { false } }
        // The operations' own times: a loaded history's come from another run.
        let t0 = ops.compactMap(\.time).min() ?? workload.start
        let t1 = max(ops.compactMap(\.time).max() ?? t0, t0 + 1)
        func ms(_ t: UInt64) -> Double { Double(Int64(bitPattern: t &- t0)) / 1e6 }
        let span = ms(t1)

        // Invocations paired with their completions, per key.
        var open: [ClientOperation.Process: ClientOperation] = [:]
        var pairs: [(invoke: ClientOperation, done: ClientOperation?)] = []
        var pairOf: [Int: Int] = [:]
        for op in ops {
            if op.kind == .invoke {
                open[op.process] = op
            } else if let invoke = open.removeValue(forKey: op.process) {
                pairs.append((invoke, op))
                pairOf[invoke.index] = pairs.count - 1
                pairOf[op.index] = pairs.count - 1
            }
        }
        for invoke in open.values.sorted(by: { $0.index < $1.index }) {
            pairs.append((invoke, nil))
            pairOf[invoke.index] = pairs.count - 1
        }
        let failedPairs = Set((workload.verdict?.failed ?? [:]).compactMap { key, index in pairOf[index].map { "\(key)\u{0}\($0)" } })

        var byKey: [String: [Int]] = [:]
        for (i, pair) in pairs.enumerated() { byKey[pair.invoke.key ?? "", default: []].append(i) }
        let bands = faults.compactMap { fault -> Band? in
            let end = fault.end ?? t1
            guard end >= t0, fault.start <= t1 else { return nil }
            let what = fault.details["groups"] ?? fault.targets.joined(separator: ", ")
            return Band(s: max(ms(max(fault.start, t0)), 0), e: ms(min(end, t1)), d: "fault \(fault.name) \(what)")
        }

        var views: [KeyView] = []
        var failedText: [String: String] = [:]
        for key in byKey.keys.sorted() {
            let members = byKey[key]!
            let processes = Set(members.map { pairs[$0].invoke.process })
            let lanes = processes.sorted { a, b in
                switch (a, b) {
                case (.client(let x), .client(let y)): x < y
                case (.client, .named): true
                case (.named, .client): false
                case (.named(let x), .named(let y)): x < y
                }
            }
            let lane = Dictionary(uniqueKeysWithValues: lanes.enumerated().map { ($1, $0) })
            var bars: [Bar] = []
            bars.reserveCapacity(members.count)
            for i in members {
                let (invoke, done) = pairs[i]
                let kind = done?.kind.rawValue ?? "open"
                let start = ms(invoke.time ?? t0)
                let end = (done?.kind == .info || done == nil) ? -1 : ms(done?.time ?? t1)
                let failed = failedPairs.contains("\(key)\u{0}\(i)")
                let text = describe(invoke, done, start: start, end: end)
                if failed { failedText[key] = text }
                bars.append(Bar(l: lane[invoke.process]!, s: start, e: end, t: kind, d: text, x: failed ? 1 : nil))
            }
            views.append(KeyView(key: key, lanes: lanes.map { "process \($0.text)" }, span: span, bars: bars, faults: bands))
        }

        let verdict: String
        switch workload.verdict?.valid {
        case .valid?: verdict = "<span class=\"verdict valid\">linearizable</span>"
        case .invalid?: verdict = "<span class=\"verdict invalid\">not linearizable</span>"
        case .unknown?: verdict = "<span class=\"verdict unknown\">unknown (time limit)</span>"
        case nil: verdict = "<span class=\"verdict\">not checked</span>"
        }
        let model = workload.verdict.map { " · model \(escape($0.model))" } ?? ""
        var html = "<section class=\"workload\" data-history=\"\(escape(workload.name))\"><h4>\(escape(workload.name)) · \(ops.count) events\(model) · \(verdict)</h4>"
        html += "<p class=\"legend\"><span class=\"key ok\">ok</span> <span class=\"key fail\">fail</span> <span class=\"key info\">info (unknown: runs to the end)</span> <span class=\"key fault\">fault</span> · one lane per process, a bar from invoke to completion; point at a bar for the operation</p>"
        for view in views {
            let label = view.key.isEmpty ? "" : "key \(view.key)"
            html += "<div class=\"history-key\" data-key=\"\(escape(view.key))\" data-ops=\"\(view.bars.count)\">"
            html += "<p class=\"key-title\">\(escape(label)) <span class=\"count\">\(view.bars.count) operations, \(view.lanes.count) processes</span></p>"
            if let text = failedText[view.key] {
                html += "<p class=\"failed-op\">cannot be linearized: \(escape(text))</p>"
            }
            html += "<canvas class=\"history-canvas\" height=\"\(view.lanes.count * 14 + 28)\"></canvas>"
            html += "<script type=\"application/json\" class=\"history-data\">\(json(view))</script></div>"
        }
        return html + "</section>"
    }

    static func describe(_ invoke: ClientOperation, _ done: ClientOperation?, start: Double, end: Double) -> String {
        var text = "process \(invoke.process.text) \(invoke.f)\(invoke.key.map { " \($0)" } ?? "") \(valueText(invoke.value))"
        if let done {
            text += " → \(done.kind.rawValue)"
            if done.kind == .ok, done.value != invoke.value { text += " \(valueText(done.value))" }
            if let error = done.error { text += " (\(error))" }
        } else {
            text += " → never completed"
        }
        text += String(format: " · %.1f ms", start)
        if end >= 0 { text += String(format: " to %.1f ms", end) }
        return text
    }

    static func valueText(_ value: OperationValue) -> String {
        switch value {
        case .none: "nil"
        case .bool(let b): String(b)
        case .integer(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): "\"\(s)\""
        case .list(let items): "[" + items.map(valueText).joined(separator: " ") + "]"
        case .map(let entries): "{" + entries.sorted { $0.key < $1.key }.map { "\($0.key) \(valueText($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// JSON safe inside a script element.
    static func json<T: Encodable>(_ value: T) -> String {
        guard let data = try? JSONEncoder().encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
    }

    /// Draws the canvases of a test when its panel is open (at load for open ones, on toggle for
    /// the others); pointing at a bar shows what it was.
    static let workloadScript = """
    (function(){
    var C={ok:'#3f9c6a',fail:'#d9534f',info:'#f0ad4e',open:'#f0ad4e'};
    function draw(box){
     if(box.dataset.drawn)return;var t0=performance.now();
     var v=JSON.parse(box.querySelector('.history-data').textContent),cv=box.querySelector('canvas');
     var W=Math.max(cv.parentNode.clientWidth||1000,400),right=8,lh=14,top=4;cv.width=W;
     var H=cv.height,g=cv.getContext('2d');g.font='11px system-ui,sans-serif';
     var left=12+Math.max.apply(null,v.lanes.map(function(n){return g.measureText(n).width}).concat([40]));
     var k=(W-left-right)/Math.max(v.span,1e-6);
     function X(ms){return left+ms*k}
     g.font='11px system-ui,sans-serif';g.fillStyle='#fff';g.fillRect(0,0,W,H);
     g.fillStyle='rgba(123,63,160,.18)';
     v.faults.forEach(function(f){g.fillRect(X(f.s),0,Math.max(X(f.e)-X(f.s),2),H-18)});
     g.fillStyle='#7b3fa0';g.textAlign='left';v.faults.forEach(function(f){g.fillText(f.d.split(' ')[1]||'fault',X(f.s)+2,H-19)});
     g.fillStyle='#1d2330';g.textAlign='right';
     v.lanes.forEach(function(n,i){g.fillText(n,left-6,top+i*lh+10)});
     var failed=null;
     v.bars.forEach(function(b){var x0=X(b.s),x1=b.e<0?X(v.span):Math.max(X(b.e),x0+1);
      g.fillStyle=C[b.t]||'#888';g.fillRect(x0,top+b.l*lh+2,Math.max(x1-x0,1),lh-4);if(b.x)failed=b});
     if(failed){var x0=X(failed.s),x1=failed.e<0?X(v.span):Math.max(X(failed.e),x0+3);
      g.strokeStyle='#b3261e';g.lineWidth=3;g.strokeRect(x0-3,top+failed.l*lh,x1-x0+6,lh);
      g.beginPath();g.moveTo(x0,0);g.lineTo(x0,H-18);g.lineWidth=1;g.stroke()}
     g.fillStyle='#8a93a0';g.textAlign='center';
     for(var i=0;i<=5;i++){var ms=v.span*i/5;g.fillText((ms/1000).toFixed(2)+' s',X(ms),H-5)}
     cv.onmousemove=function(e){var r=cv.getBoundingClientRect(),mx=(e.clientX-r.left)*W/r.width,my=e.clientY-r.top;
      var lane=Math.floor((my-top)/lh),best=null;
      v.bars.forEach(function(b){if(b.l!==lane)return;var x0=X(b.s),x1=b.e<0?X(v.span):Math.max(X(b.e),x0+1);if(mx>=x0-1&&mx<=x1+1)best=b});
      if(!best)v.faults.forEach(function(f){if(mx>=X(f.s)&&mx<=X(f.e))best=f});
      cv.title=best?best.d:''};
     box.dataset.drawn=v.bars.length;box.dataset.drawMs=(performance.now()-t0).toFixed(1);
    }
    function drawIn(d){d.querySelectorAll('.history-key').forEach(draw)}
    document.querySelectorAll('details.test').forEach(function(d){
     if(d.open)drawIn(d);d.addEventListener('toggle',function(){if(d.open)drawIn(d)})});
    })();
    """

    static let workloadCSS = """
    section.workload{padding:4px 12px 10px}section.workload h4{margin:6px 0;font-size:13px}
    .verdict{padding:0 6px;border-radius:3px;background:#cfd8e3}.verdict.valid{background:#3f9c6a;color:#fff}
    .verdict.invalid{background:#b3261e;color:#fff}.verdict.unknown{background:#f0ad4e}
    .history-key .key-title{margin:4px 0 2px;font-size:12px}.history-key .count{color:#5b6472}
    p.failed-op{margin:2px 0;padding:4px 8px;background:#fdecea;color:#7a1b14;font:12px ui-monospace,monospace;border-radius:4px}
    p.legend{margin:2px 0;font-size:11px;color:#5b6472}.key.ok{background:#3f9c6a}.key.fail{background:#d9534f}.key.info{background:#f0ad4e;color:#1d2330}
    canvas.history-canvas{display:block;width:100%;border:1px solid #eceff3}
    """
}
