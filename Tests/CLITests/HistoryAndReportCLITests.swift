import Foundation
import Testing
import Core

/// Where a run's history, report and artifacts go, without an engine (steps and tests only).
@Suite struct HistoryAndReportCLITests {
    static let spec = """
        describe("s", function()
          it("passes", function() log.step("one", function() end) end)
          it("fails", function()
            log.step("two", function() assert.equal(1, 2) end)
          end)
        end)
        """

    @Test func aFailedRunLeavesItsArtifactsInTheStateFolderAndSaysWhere() async throws {
        try await TestRunnerTests.withFolder(["s_spec.lua": Self.spec]) { dir in
            let result = try await CLI.run(["test", "-o", "plain", "--seed", "5", "s_spec.lua"], directory: dir)
            #expect(result.status == 1)
            let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("artifacts: ") }, "\(result.stdout)")
            let folder = String(line.dropFirst("artifacts: ".count).prefix { $0 != " " })
            #expect(folder.hasPrefix("\(dir)/.ccm-lua-home/_artifacts/"), "\(folder)")
            let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
            // Only the failed test has a folder of its own without --artifacts.
            #expect(files == ["history.jsonl", "report.html", "s-fails"], "\(files)")
            #expect(try String(contentsOfFile: "\(folder)/s-fails/seed", encoding: .utf8) == "5\n")
            let history = try HistoryFile.read(URL(fileURLWithPath: "\(folder)/history.jsonl"))
            #expect(history.map { "\($0.kind) \($0.name) \($0.result ?? "-") \($0.error ?? "-")" }
                    == ["test s passes passed -", "step one - -", "test s fails failed -", "step two error assertion"])
            #expect(history.allSatisfy { $0.file == "s_spec.lua" && $0.start <= ($0.end ?? 0) })
            let html = try String(contentsOfFile: "\(folder)/report.html", encoding: .utf8)
            #expect(html.contains("<details class=\"test failed\" id=\"test-1\" open>"))
        }
    }

    @Test func aPassingRunLeavesNothingUnlessAsked() async throws {
        try await TestRunnerTests.withFolder(["p_spec.lua": "it('passes', function() end)"]) { dir in
            let result = try await CLI.run(["test", "-o", "plain", "--report", "out/r.html", "--history", "out/h.jsonl", "p_spec.lua"],
                                           directory: dir)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!result.stdout.contains("artifacts:"))
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/.ccm-lua-home/_artifacts"))
            #expect(try HistoryFile.read(URL(fileURLWithPath: "\(dir)/out/h.jsonl")).map(\.name) == ["passes"])
            #expect(try String(contentsOfFile: "\(dir)/out/r.html", encoding: .utf8).contains("<details class=\"test passed\""))
        }
    }

    @Test func aPlainScriptWritesItsHistoryWhenAsked() async throws {
        try await TestRunnerTests.withFolder(["plain.lua": "log.step('work', function() end)\nerror('stop here')"]) { dir in
            let result = try await CLI.run(["plain.lua"], environment: [HistoryFile.variable: "\(dir)/h.jsonl"], directory: dir)
            #expect(result.status == 1)
            let history = try HistoryFile.read(URL(fileURLWithPath: "\(dir)/h.jsonl"))
            #expect(history.map(\.name) == ["work"])
            let without = try await CLI.run(["plain.lua"], directory: dir)
            #expect(without.status == 1)
        }
    }
}
