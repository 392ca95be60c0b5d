import Foundation
import Testing
import Core

/// Workload histories (`ccm.history`) reach report.html and the artifacts from `ccm-lua test`'s
/// workers, checked or not, without an engine.
@Suite struct WorkloadReportCLITests {
    static func spec(_ name: String, stale: Bool) -> String {
        """
        local history, check = require "ccm.history", require "ccm.check"
        it("\(name) checked", function()
          local h = history.new()
          h:invoke{process = 0, f = "write", key = "k", value = 1}:ok()
          h:invoke{process = 0, f = "write", key = "k", value = 2}:ok()
          h:invoke{process = 1, f = "read", key = "k"}:ok(\(stale ? 1 : 2))
          local r = check.linearizable(h, {model = "register"})
          assert.equal(\(stale ? "false" : "true"), r.valid)
        end)
        it("\(name) recorded only", function()
          local h = history.new()
          h:invoke{process = 3, f = "read", key = "other"}:ok(json.null)
        end)
        """
    }

    @Test func workersHandTheirWorkloadsToTheReportAndTheArtifacts() async throws {
        try await TestRunnerTests.withFolder(["a_spec.lua": Self.spec("a", stale: true), "b_spec.lua": Self.spec("b", stale: false)]) { dir in
            let result = try await CLI.run(["test", "-o", "plain", "-j", "2", "--artifacts", "out", "a_spec.lua", "b_spec.lua"], directory: dir)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            for (file, valid) in [("a", "false"), ("b", "true")] {
                let checked = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out/\(file)-checked")
                #expect(checked.filter { $0.hasPrefix("history-") }.count == 1, "\(checked)")
                let recorded = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out/\(file)-recorded-only")
                #expect(recorded.filter { $0.hasPrefix("history-") }.count == 1, "\(recorded)")
                if let name = checked.first(where: { $0.hasPrefix("history-") }) {
                    let saved = try OperationHistoryFormats.load(Data(contentsOf: URL(fileURLWithPath: "\(dir)/out/\(file)-checked/\(name)")))
                    #expect(saved.operations.count == 6)
                }
                let history = try HistoryFile.read(URL(fileURLWithPath: "\(dir)/out/history.jsonl"))
                let workloads = history.filter { $0.kind == "workload" && $0.file == "\(file)_spec.lua" }
                #expect(workloads.count == 2)
                #expect(workloads.contains { $0.details["valid"] == valid && $0.details["model"] == "register" })
            }
            let html = try String(contentsOfFile: "\(dir)/out/report.html", encoding: .utf8)
            #expect(html.components(separatedBy: "<section class=\"workload\"").count - 1 == 4)
            #expect(html.contains("<p class=\"failed-op\">cannot be linearized: process 1 read k nil → ok 1"))
            #expect(html.components(separatedBy: "<span class=\"verdict\">not checked</span>").count - 1 == 2)
        }
    }
}
