import Foundation

/// The runner's console: one line per test as it ends (with the failure's story under it), live
/// progress on a terminal, the summary at the end. Writes to stdout; notes go to stderr.
public final class TestConsole: @unchecked Sendable {
    private let lock = NSLock()
    private let utf: Bool
    /// A status line rewritten in place (only on a terminal).
    private let live: Bool
    private var report: TestReport
    private let started = Date()
    private var running: [String] = []
    /// The test each running file is in, by file ("" for a plain script).
    private var current: [String: String] = [:]
    private var statusShown = false

    /// False: only collect (the report is printed in another format at the end).
    private let echo: Bool

    public init(format: TestOutputFormat, seed: Int64, live: Bool = isatty(1) != 0, echo: Bool = true) {
        utf = format == .utf
        self.live = live && echo
        self.echo = echo
        report = TestReport(seed: seed)
    }

    public var results: [TestResult] { lock.withLock { report.results } }

    /// A file began (live progress shows what runs).
    public func started(_ file: String) {
        lock.withLock {
            running.append(file)
            drawStatus()
        }
    }

    /// A test began (in `file`, or in the script of `ccm-lua FILE`).
    public func started(test name: String, in file: String = "") {
        lock.withLock {
            if !running.contains(file) { running.append(file) }
            current[file] = name
            drawStatus()
        }
    }

    public func ended(_ file: String) {
        lock.withLock {
            if let index = running.firstIndex(of: file) { running.remove(at: index) }
            current[file] = nil
            drawStatus()
        }
    }

    public func record(_ result: TestResult) {
        lock.withLock {
            report.results.append(result)
            current[result.file] = nil
            current[""] = nil
            guard echo else { return }
            var text = TestReport.consoleLine(result, utf: utf)
            let details = TestReport.failureDetails(result)
            if !details.isEmpty { text += "\n" + details }
            write(text + "\n")
        }
    }

    public func note(_ text: String) {
        lock.withLock {
            clearStatus()
            FileHandle.standardError.write(Data(("ccm-lua test: " + text + "\n").utf8))
            drawStatus()
        }
    }

    /// Prints the summary and returns the whole report.
    @discardableResult
    public func finish() -> TestReport {
        lock.withLock {
            report.duration = Date().timeIntervalSince(started)
            running.removeAll()
            if echo && !report.results.contains(where: { $0.status == .listed }) { write("\n" + report.summary(utf: utf) + "\n") }
            return report
        }
    }

    private func write(_ text: String) {
        clearStatus()
        FileHandle.standardOutput.write(Data(text.utf8))
        drawStatus()
    }

    private func clearStatus() {
        guard live, statusShown else { return }
        FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8))
        statusShown = false
    }

    private func drawStatus() {
        guard live, !running.isEmpty else { return }
        clearStatus()
        let counts = report.results.isEmpty ? "starting" : report.countsLine
        let what = running.map { file in
            [(file as NSString).lastPathComponent, current[file] ?? ""].filter { !$0.isEmpty }.joined(separator: ": ")
        }.joined(separator: ", ")
        var columns = 80
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 10 { columns = Int(size.ws_col) }
        FileHandle.standardOutput.write(Data(String("… \(counts); running \(what)".prefix(columns - 1)).utf8))
        statusShown = true
    }
}
