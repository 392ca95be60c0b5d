import Foundation
import Testing
import Core

/// What a run leaves for people: history.jsonl, each test's artifacts, and report.html as a real
/// browser (Debian's headless Chromium) shows it.
@Suite(.serialized) struct ReportTests {
    @Test(arguments: Engine.allCases)
    func anEtcdRunLeavesItsHistoryArtifactsAndAReportABrowserShows(_ engine: Engine) async throws {
        let name = RunnerTests.unique("report", engine)
        let chromium = try Browser.chromium()
        try await ScenarioTests.withScenario(engine, clusters: [name]) { scenario in
            let out = scenario.folder.appendingPathComponent("out")
            let artifacts = out.appendingPathComponent("artifacts"), report = out.appendingPathComponent("report.html")
            let historyFile = out.appendingPathComponent("history.jsonl")
            let spec = try scenario.write("report_spec.lua", """
                describe("etcd", function()
                  local c
                  setup(function()
                    c = cluster.create { profile = "etcd", name = "\(name)", nodes = 3, start = true }
                  end)
                  it("survives a partition", function()
                    log.step("write a key", function() c:node(1):etcdctl("put", "k", "v") end)
                    c:node(1):wait_log("ready to serve client requests")
                    local p = c:partition({ c:node(1) }, { c:node(2), c:node(3) })
                    c:node(3):pause()
                    c:node(3):resume()
                    p:heal()
                  end)
                  it("reads what it wrote", function()
                    assert.equal("w", (c:node(2):etcdctl("get", "k", "--print-value-only"):gsub("%s+$", "")))
                  end)
                end)
                """)
            let result = try scenario.run(["test", "-o", "plain", "--seed", "7", "--artifacts", artifacts.path, "--report", report.path,
                                           "--history", historyFile.path, spec])
            #expect(result.status == 1, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
            #expect(result.stdout.contains("ok      \(spec): etcd survives a partition ("), "\(result.stdout)")
            #expect(result.stdout.contains("FAILED  \(spec): etcd reads what it wrote ("))
            #expect(result.stdout.contains("history: \(historyFile.path)") && result.stdout.contains("report: \(report.path)"))
            #expect(result.stdout.contains("artifacts: \(artifacts.path)"))

            // history.jsonl: every operation, with its node, result and times.
            let history = try HistoryFile.read(historyFile)
            #expect(try HistoryFile.read(artifacts.appendingPathComponent("history.jsonl")) == history)
            for event in history {
                let end = try #require(event.end, "\(event.kind) \(event.name) did not end")
                #expect(event.start <= end, "\(event.kind) \(event.name)")
                #expect(event.file == spec)
            }
            let tests = history.filter { $0.kind == "test" }
            #expect(tests.map(\.name) == ["etcd survives a partition", "etcd reads what it wrote"])
            #expect(tests.map(\.result) == ["passed", "failed"])
            let first = try #require(tests.first)
            let during = HistoryFile.events(of: first, in: history)
            let step = try #require(during.first { $0.kind == "step" })
            #expect(step.name == "write a key" && step.error == nil)
            let exec = try #require(during.first { $0.kind == "exec" })
            #expect(exec.node == "node1" && exec.cluster == name && exec.result == "exit 0" && exec.name.contains("put k v"))
            #expect(step.start <= exec.start && exec.end! <= step.end!)
            let wait = try #require(during.first { $0.kind == "wait" })
            #expect(wait.node == "node1" && wait.name == "ready to serve client requests" && wait.error == nil)
            let fault = try #require(during.first { $0.kind == "fault" })
            #expect(fault.name == "partition" && fault.targets == ["node1", "node2", "node3"] && fault.cluster == name)
            #expect(during.contains { $0.kind == "node" && $0.name == "pause" && $0.node == "node3" })
            #expect(history.filter { $0.kind == "node" && $0.name == "start" }.count == 3)
            #expect(history.contains { $0.kind == "cluster" && $0.name == "remove" && $0.cluster == name })

            // Artifacts: with --artifacts every test has its folder.
            for folder in ["etcd-survives-a-partition", "etcd-reads-what-it-wrote"] {
                let dir = artifacts.appendingPathComponent(folder)
                let log = try String(contentsOf: dir.appendingPathComponent("\(name)-node1.log"), encoding: .utf8)
                #expect(log.contains("ready to serve client requests"), "\(folder)")
                let inspect = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("\(name)-node2.inspect.json")))
                let container = try #require((inspect as? [[String: Any]])?.first)
                #expect((container["Name"] as? String)?.hasSuffix("\(name)-node2") == true)
                let config = try String(contentsOf: dir.appendingPathComponent("\(name)-node3.config.json"), encoding: .utf8)
                #expect(config.contains("\"plan\"") && config.contains("initial-cluster"), "\(config.prefix(400))")
                let images = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("images.json"))) as? [String: [String: String]]
                let node1 = try #require(images?["\(name)/node1"])
                #expect(node1["id"]?.hasPrefix("sha256:") == true && node1["ref"]?.contains("ccm-lua-test/etcd:3.4") == true, "\(node1)")
                #expect(try String(contentsOf: dir.appendingPathComponent("seed"), encoding: .utf8) == "7\n")
                let own = try HistoryFile.read(dir.appendingPathComponent("history.jsonl"))
                #expect(own.contains { $0.kind == "test" } && !own.isEmpty)
            }
            let failed = try HistoryFile.read(artifacts.appendingPathComponent("etcd-reads-what-it-wrote/history.jsonl"))
            #expect(failed.contains { $0.kind == "exec" && $0.name.contains("get k") })
            #expect(!failed.contains { $0.kind == "fault" }, "the first test's fault is not the second's")
            #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent("report.html").path))

            // report.html in a real browser.
            let dom = try chromium.dumpDOM(report)
            #expect(dom.components(separatedBy: "<details class=\"test ").count - 1 == 2, "\(dom.prefix(2000))")
            #expect(dom.contains("<details class=\"test failed\" id=\"test-1\" open=\"\">"))
            #expect(!dom.contains("<details class=\"test passed\" id=\"test-0\" open"))
            for node in ["node1", "node2", "node3"] {
                #expect(dom.components(separatedBy: "<g class=\"lane\" data-node=\"\(name)/\(node)\"").count - 1 == 2, "\(node)")
            }
            #expect(dom.contains("<rect class=\"fault\" data-fault=\"partition\""))
            #expect(dom.contains("class=\"state paused\""))
            #expect(dom.contains("expected \"w\", got \"v\""))
            let shot = Browser.keptScreenshot("report-\(engine.rawValue).png")
            try chromium.screenshot(report, to: shot)
            let size = try #require(try FileManager.default.attributesOfItem(atPath: shot.path)[.size] as? Int)
            #expect(size > 10_000)
            print("report.html as Chromium shows it (\(engine.rawValue)): \(shot.path)")
            #expect(try await scenario.leftovers([name]).isEmpty)
        }
    }
}

/// Debian's headless Chromium, for tests that look at a page as a person would.
struct Browser {
    let path: String

    /// The browser; a missing one cancels the test, or fails it under CI=true.
    static func chromium() throws -> Browser {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(folder)/chromium"
            if FileManager.default.isExecutableFile(atPath: path) { return Browser(path: path) }
        }
        let reason = "chromium is not installed (apt-get install -y chromium; scripts/setup installs it)"
        if Integration.isCI { throw BrowserProblem(message: "CI=true requires a browser: " + reason) }
        FileHandle.standardError.write(Data("↷ skipping: \(reason)\n".utf8))
        try Test.cancel(Comment(rawValue: reason))
    }

    struct BrowserProblem: Error, CustomStringConvertible { var message: String; var description: String { message } }

    /// Set to a folder to keep the tests' screenshots there for a person to look at.
    static let screenshotsVariable = "CCM_LUA_TEST_SCREENSHOTS"

    /// Where a screenshot goes: the folder `CCM_LUA_TEST_SCREENSHOTS` names (kept, overwritten by
    /// the next run), else a folder of this test process that is removed when it exits.
    static func keptScreenshot(_ name: String) -> URL {
        let kept = ProcessInfo.processInfo.environment[screenshotsVariable].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
        let folder = kept ?? scratchScreenshots
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name)
    }

    private static let scratchScreenshots: URL = {
        atexit {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-screenshots-\(getpid())")
            try? FileManager.default.removeItem(at: folder)
        }
        return FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-screenshots-\(getpid())")
    }()

    func dumpDOM(_ page: URL) throws -> String { try run(["--dump-dom", page.absoluteString]) }

    func screenshot(_ page: URL, to file: URL) throws {
        _ = try run(["--screenshot=\(file.path)", "--window-size=1200,1400", page.absoluteString])
    }

    /// One headless run with a profile folder of its own (removed after), so runs never share state.
    private func run(_ arguments: [String]) throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--user-data-dir=\(profile.path)"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BrowserProblem(message: "chromium \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
