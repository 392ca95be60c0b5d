import Foundation
import Testing
import Core

/// examples/etcd-linearizable.lua against real etcd on both engines: with linearizable reads the
/// history checks out; with serializable reads sent to an isolated member the checker catches the
/// stale read, the example prints it, and report.html shows it in a browser.
@Suite(.serialized) struct LinearizabilityExampleTests {
    static let example = Scenario.repository.appendingPathComponent("examples/etcd-linearizable.lua").path

    @Test(arguments: Engine.allCases)
    func etcdWithLinearizableReadsIsLinearizableUnderPartitions(_ engine: Engine) async throws {
        try await ScenarioTests.withScenario(engine, clusters: []) { scenario in
            let saved = scenario.folder.appendingPathComponent("history.jsonl")
            let running = try FaultTests.start(scenario, nil, [Self.example],
                                               environment: ["WORKLOAD_SECONDS": "8", "HISTORY_FILE": saved.path])
            let result = running.finish()
            let made = FaultTests.clusters(in: scenario)
            try await Self.removing(made, in: scenario) {
            FaultTests.expectOK(result, ["nemesis schedule (seed", "verdict: linearizable"])
            let recorded = try #require(result.stdout.firstMatch(of: /(\d+) events recorded/).flatMap { Int($0.1) })
            #expect(recorded > 100, "a workload of 8 s over HTTP records hundreds of operations")
            let history = try OperationHistoryFormats.load(Data(contentsOf: saved))
            #expect(history.operations.contains { $0.process == .named("nemesis") && $0.f.hasPrefix("start-partition") },
                    "the nemesis's partitions are in the saved history")
            #expect(history.operations.filter { $0.kind == .ok && $0.f == "read" }.count > 10)
            #expect(try await scenario.leftovers(made).isEmpty)
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func serializableReadsOnAnIsolatedMemberAreCaughtAndShownInTheReport(_ engine: Engine) async throws {
        let chromium = try Browser.chromium()
        try await ScenarioTests.withScenario(engine, clusters: []) { scenario in
            let out = scenario.folder.appendingPathComponent("out")
            let artifacts = out.appendingPathComponent("artifacts"), report = out.appendingPathComponent("report.html")
            let spec = try scenario.write("stale_spec.lua", """
                it("etcd serializable reads", function()
                  dofile([[\(Self.example)]])
                end)
                """)
            let running = try FaultTests.start(scenario, nil, ["test", "-o", "plain", "--artifacts", artifacts.path, "--report", report.path, spec],
                                               environment: ["WORKLOAD_SECONDS": "8", "WORKLOAD_MODE": "stale"])
            let result = running.finish()
            let made = FaultTests.clusters(in: scenario)
            try await Self.removing(made, in: scenario) {
            let output = result.stdout + result.stderr
            #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
            #expect(output.contains("verdict: NOT linearizable"), "\(output)")
            // The probe at the end makes sure of one stale read; the serializable client usually
            // finds others first, and the checker names the first operation it cannot place.
            #expect(output.contains("cannot be placed after them: process "), "\(output)")
            #expect(output.contains("caught: the isolated member served a stale read"))

            // The test's workload history is among its artifacts, in ccm-lua's format.
            let folder = artifacts.appendingPathComponent("etcd-serializable-reads")
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("history-") && $0.hasSuffix(".jsonl") }
            #expect(files.count == 1, "\(files)")
            if let file = files.first {
                let saved = try OperationHistoryFormats.load(Data(contentsOf: folder.appendingPathComponent(file)))
                #expect(saved.operations.contains { $0.process == .named("nemesis") && $0.f == "start-partition" })
                #expect(saved.operations.contains { $0.process == .client(2000000) && $0.kind == .ok })
            }

            // report.html, in a browser: the history view of k1 names the stale read.
            let dom = try chromium.dumpDOM(report)
            #expect(dom.contains("<span class=\"verdict invalid\">not linearizable</span>"), "\(dom.prefix(3000))")
            #expect(dom.contains("<p class=\"failed-op\">cannot be linearized: process "), "\(dom.prefix(3000))")
            for key in ["k1", "k2", "k3"] { #expect(dom.contains("data-key=\"\(key)\""), "\(key)") }
            #expect(dom.contains("<details class=\"test passed\" id=\"test-0\" open=\"\">"), "a history that is not linearizable opens its test")
            #expect(dom.components(separatedBy: "data-drawn=\"").count - 1 == 3, "each key's lanes drawn")
            let shot = Browser.keptScreenshot("linearizability-\(engine.rawValue).png")
            try chromium.screenshot(report, to: shot)
            print("the stale read in report.html (\(engine.rawValue)): \(shot.path)")
            #expect(try await scenario.leftovers(made).isEmpty)
            }
        }
    }

    /// Runs `checks`, then removes `clusters` whatever happened (the script removes its cluster
    /// itself; this is for a run that did not get that far).
    static func removing(_ clusters: [String], in scenario: Scenario, _ checks: () async throws -> Void) async throws {
        do { try await checks() } catch {
            await scenario.removeAll(clusters)
            throw error
        }
        await scenario.removeAll(clusters)
    }
}
