import Foundation

/// The output formats of `ccm-lua test -o`: what a person reads on a console, and TAP, JUnit XML
/// and JSON for tools. Each is a pure function of the report.
public enum TestOutputFormat: String, CaseIterable, Sendable {
    case utf, plain, tap, junit, json
}

extension TestReport {
    // MARK: Console

    /// "12 ms" below a second, "1.23 s" above.
    public static func formatDuration(_ seconds: Double) -> String {
        seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : String(format: "%.2f s", seconds)
    }

    /// The one line of a finished test: status, file, name, duration.
    public static func consoleLine(_ result: TestResult, utf: Bool) -> String {
        let label: String
        switch (result.status, utf) {
        case (.passed, true): label = "✓"
        case (.failed, true): label = "✗"
        case (.errored, true): label = "✗ error:"
        case (.timedOut, true): label = "✗ timed out:"
        case (.pending, true): label = "○ pending:"
        case (.listed, _): return "\(result.file): \(result.displayName)"
        case (.passed, false): label = "ok     "
        case (.failed, false): label = "FAILED "
        case (.errored, false): label = "ERROR  "
        case (.timedOut, false): label = "TIMEOUT"
        case (.pending, false): label = "PENDING"
        }
        let time = result.status == .pending ? "" : " (\(formatDuration(result.duration)))"
        return "\(label) \(result.file): \(result.displayName)\(time)"
    }

    /// What a failed test has to say: the error, the step, the traceback, the nodes' last lines;
    /// each line indented under the test's line.
    public static func failureDetails(_ result: TestResult) -> String {
        guard result.status.isFailure else { return "" }
        var lines: [String] = []
        if let message = result.message { lines += message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        if let step = result.step { lines.append("in step: \(step)") }
        if let traceback = result.traceback { lines += traceback.split(separator: "\n").map(String.init) }
        for tail in result.logs ?? [] where !tail.lines.isEmpty {
            lines.append("last log lines of \(tail.node):")
            lines += tail.lines.map { "  " + $0 }
        }
        return lines.map { "    " + $0 }.joined(separator: "\n")
    }

    /// "3 passed, 1 failed in 2.10 s (seed 42)", then the failed tests by name.
    public func summary(utf: Bool) -> String {
        var text = "\(countsLine) in \(Self.formatDuration(duration)) (seed \(seed))"
        let failed = results.filter { $0.status.isFailure }
        if !failed.isEmpty {
            text += "\nfailed:"
            for result in failed { text += "\n  \(result.file): \(result.displayName) (\(result.status.rawValue.replacingOccurrences(of: "_", with: " ")))" }
        }
        return text
    }

    // MARK: TAP (version 13)

    public func tap() -> String {
        let shown = results.filter { $0.status != .listed }
        var lines = ["TAP version 13", "1..\(shown.count)"]
        for (index, result) in shown.enumerated() {
            let number = index + 1
            let name = "\(result.file): \(result.displayName)".replacingOccurrences(of: "#", with: "\\#")
            switch result.status {
            case .passed: lines.append("ok \(number) - \(name)")
            case .pending: lines.append("ok \(number) - \(name) # SKIP pending")
            default:
                lines.append("not ok \(number) - \(name)")
                lines.append("  ---")
                lines.append("  status: \(result.status.rawValue)")
                lines.append("  duration_ms: \(Int((result.duration * 1000).rounded()))")
                if let message = result.message { lines.append("  message: " + Self.yamlBlock(message)) }
                if let step = result.step { lines.append("  step: " + Self.yamlBlock(step)) }
                if let traceback = result.traceback { lines.append("  traceback: " + Self.yamlBlock(traceback)) }
                lines.append("  ...")
            }
        }
        lines.append("# seed \(seed)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML literal block, so any text (quotes, colons, newlines) stays as it is.
    private static func yamlBlock(_ text: String) -> String {
        "|-\n" + text.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
    }

    // MARK: JUnit XML

    /// One <testsuite> per file, as most CI systems and junitparser read it.
    public func junit() -> String {
        let shown = results.filter { $0.status != .listed }
        var files: [String] = []
        for result in shown where !files.contains(result.file) { files.append(result.file) }
        func counts(_ list: [TestResult]) -> String {
            let failures = list.count { $0.status == .failed }
            let errors = list.count { $0.status == .errored || $0.status == .timedOut }
            let skipped = list.count { $0.status == .pending }
            let time = list.reduce(0) { $0 + $1.duration }
            return "tests=\"\(list.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"\(Self.seconds(time))\""
        }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"ccm-lua\" \(counts(shown))>\n"
        for file in files {
            let list = shown.filter { $0.file == file }
            xml += "  <testsuite name=\"\(Self.xml(file))\" \(counts(list))>\n"
            xml += "    <properties><property name=\"seed\" value=\"\(seed)\"/></properties>\n"
            for result in list {
                xml += "    <testcase classname=\"\(Self.xml(file))\" name=\"\(Self.xml(result.displayName))\" time=\"\(Self.seconds(result.duration))\""
                let body = Self.xml(Self.failureDetailsPlain(result))
                let message = Self.xml(result.message?.split(separator: "\n").first.map(String.init) ?? result.status.rawValue)
                switch result.status {
                case .passed, .listed: xml += "/>\n"
                case .pending: xml += ">\n      <skipped message=\"pending\"/>\n    </testcase>\n"
                case .failed: xml += ">\n      <failure type=\"assertion\" message=\"\(message)\">\(body)</failure>\n    </testcase>\n"
                case .errored: xml += ">\n      <error type=\"error\" message=\"\(message)\">\(body)</error>\n    </testcase>\n"
                case .timedOut: xml += ">\n      <error type=\"timeout\" message=\"\(message)\">\(body)</error>\n    </testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    private static func failureDetailsPlain(_ result: TestResult) -> String {
        failureDetails(result).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : String($0) }.joined(separator: "\n")
    }

    private static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }

    /// Text for XML attributes and content; characters XML 1.0 cannot hold become U+FFFD.
    static func xml(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    // MARK: JSON

    private struct JSONForm: Encodable {
        var seed: Int64
        var duration: Double
        var counts: [String: Int]
        var tests: [TestResult]
    }

    public func json() -> String {
        var counts: [String: Int] = [:]
        for status in TestStatus.allCases where status != .listed { counts[status.rawValue] = count(status) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let form = JSONForm(seed: seed, duration: duration, counts: counts, tests: results)
        guard let data = try? encoder.encode(form) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    public func rendered(_ format: TestOutputFormat) -> String {
        switch format {
        case .tap: tap()
        case .junit: junit()
        case .json: json()
        case .utf, .plain:
            results.map { Self.consoleLine($0, utf: format == .utf) }.joined(separator: "\n") + "\n" + summary(utf: format == .utf) + "\n"
        }
    }
}
