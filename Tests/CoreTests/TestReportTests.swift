import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Core

/// The runner's output formats, from one report with every ending.
@Suite struct TestReportTests {
    static let report = TestReport(seed: 42, results: [
        TestResult(file: "a_spec.lua", name: "suite passes", status: .passed, duration: 0.012),
        TestResult(file: "a_spec.lua", name: "suite fails", status: .failed, duration: 1.5,
                   message: "a_spec.lua:3: expected 3, got 2", traceback: "stack traceback:\n\ta_spec.lua:3: in function <a_spec.lua:3>",
                   step: "check", logs: [NodeLogTail(node: "c1/node1", lines: ["E | boom <&>"])]),
        TestResult(file: "a_spec.lua", name: "suite errors", status: .errored, duration: 0.2, message: "a_spec.lua:4: attempt to index a nil value"),
        TestResult(file: "b_spec.lua", name: "hangs", status: .timedOut, duration: 0.3, message: "the test timed out after 0.3 s"),
        TestResult(file: "b_spec.lua", name: "later", status: .pending),
    ], duration: 2.25)

    @Test func consoleLinesAndSummary() {
        let lines = Self.report.results.map { TestReport.consoleLine($0, utf: false) }
        #expect(lines == [
            "ok      a_spec.lua: suite passes (12 ms)",
            "FAILED  a_spec.lua: suite fails (1.50 s)",
            "ERROR   a_spec.lua: suite errors (200 ms)",
            "TIMEOUT b_spec.lua: hangs (300 ms)",
            "PENDING b_spec.lua: later",
        ])
        #expect(TestReport.consoleLine(Self.report.results[1], utf: true) == "✗ a_spec.lua: suite fails (1.50 s)")
        let details = TestReport.failureDetails(Self.report.results[1])
        #expect(details == """
                a_spec.lua:3: expected 3, got 2
                in step: check
                stack traceback:
                	a_spec.lua:3: in function <a_spec.lua:3>
                last log lines of c1/node1:
                  E | boom <&>
            """)
        #expect(Self.report.summary(utf: false).hasPrefix("1 passed, 1 failed, 1 errored, 1 timed out, 1 pending in 2.25 s (seed 42)\nfailed:\n  a_spec.lua: suite fails (failed)"))
        #expect(!Self.report.passed)
        #expect(TestReport(seed: 1, results: [Self.report.results[0], Self.report.results[4]]).passed)
    }

    @Test func tap() {
        let tap = Self.report.tap()
        #expect(tap.hasPrefix("TAP version 13\n1..5\nok 1 - a_spec.lua: suite passes\nnot ok 2 - a_spec.lua: suite fails\n  ---\n  status: failed\n"))
        #expect(tap.contains("  message: |-\n    a_spec.lua:3: expected 3, got 2\n"))
        #expect(tap.contains("ok 5 - b_spec.lua: later # SKIP pending\n"))
        #expect(tap.contains("not ok 4 - b_spec.lua: hangs\n  ---\n  status: timed_out\n"))
        #expect(tap.hasSuffix("# seed 42\n"))
    }

    @Test func junitCountsPerFileAndEscapes() {
        let xml = Self.report.junit()
        #expect(xml.contains("<testsuites name=\"ccm-lua\" tests=\"5\" failures=\"1\" errors=\"2\" skipped=\"1\""))
        #expect(xml.contains("<testsuite name=\"a_spec.lua\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\""))
        #expect(xml.contains("<testsuite name=\"b_spec.lua\" tests=\"2\" failures=\"0\" errors=\"1\" skipped=\"1\""))
        #expect(xml.contains("<failure type=\"assertion\" message=\"a_spec.lua:3: expected 3, got 2\">"))
        #expect(xml.contains("<error type=\"timeout\""))
        #expect(xml.contains("<skipped message=\"pending\"/>"))
        #expect(xml.contains("E | boom &lt;&amp;&gt;"))
        #expect(TestReport.xml("a\u{1}b\"") == "a\u{FFFD}b&quot;")
        // Well-formed for an XML parser (junitparser reads it in the CLI tests).
        #expect(XMLParser(data: Data(xml.utf8)).parse())
    }

    @Test func jsonRoundTrips() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(Self.report.json().utf8)) as? [String: Any])
        #expect(object["seed"] as? Int == 42)
        #expect(object["counts"] as? [String: Int] == ["passed": 1, "failed": 1, "errored": 1, "timed_out": 1, "pending": 1])
        struct Form: Decodable { var tests: [TestResult] }
        let decoded = try JSONDecoder().decode(Form.self, from: Data(Self.report.json().utf8))
        #expect(decoded.tests == Self.report.results)
    }

    @Test func seededGeneratorRepeats() {
        var one = SeededGenerator(seed: Int64(7)), two = SeededGenerator(seed: Int64(7)), other = SeededGenerator(seed: Int64(8))
        let a = (0..<5).map { _ in one.next() }, b = (0..<5).map { _ in two.next() }, c = (0..<5).map { _ in other.next() }
        #expect(a == b)
        #expect(a != c)
        var g1 = SeededGenerator(seed: Int64(3)), g2 = SeededGenerator(seed: Int64(3))
        #expect(Array(1...20).shuffled(using: &g1) == Array(1...20).shuffled(using: &g2))
        #expect(RunSeed.parse("12") == 12)
        #expect(RunSeed.parse("-1") == nil)
        #expect(RunSeed.parse("x") == nil)
    }
}
