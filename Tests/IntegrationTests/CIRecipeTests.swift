import Foundation
import Testing
import Core

/// docs/ci.md's workflow cannot rot: its shell steps run here, in order, on each engine, and
/// leave what its upload step keeps.
@Suite(.serialized) struct CIRecipeTests {
    /// One step of the workflow: a shell script, or a GitHub action this machine cannot run.
    struct Step { var name: String; var run: String?; var uses: String? }

    struct Workflow {
        var engines: [String]
        var env: [String: String]
        var steps: [Step]
    }

    /// The yaml block after the `ci-recipe` marker, read line by line (the recipe's own layout:
    /// two-space indents, `run: |` blocks).
    static func workflow() throws -> Workflow {
        let doc = try String(contentsOf: Scenario.repository.appendingPathComponent("docs/ci.md"), encoding: .utf8)
        let afterMarker = try #require(doc.range(of: "<!-- ci-recipe")).upperBound
        let start = try #require(doc.range(of: "```yaml\n", range: afterMarker..<doc.endIndex)).upperBound
        let end = try #require(doc.range(of: "\n```", range: start..<doc.endIndex)).lowerBound
        let lines = doc[start..<end].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        func value(_ line: String, _ key: String) -> String? {
            let text = line.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "- ", with: "", options: .anchored)
            guard text.hasPrefix(key + ":") else { return nil }
            let rest = text.dropFirst(key.count + 1)
            return String(rest.split(separator: "#", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces)
        }
        var workflow = Workflow(engines: [], env: [:], steps: [])
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if let engines = value(line, "engine") {
                workflow.engines = engines.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",")
                    .map { $0.trimmingCharacters(in: .whitespaces) }
            } else if value(line, "env") == "" && indent(line) == 4 {
                var j = i + 1
                while j < lines.count, indent(lines[j]) > 4 {
                    let parts = lines[j].trimmingCharacters(in: .whitespaces).split(separator: ":", maxSplits: 1)
                    workflow.env[String(parts[0])] = String(parts[1]).trimmingCharacters(in: .whitespaces)
                    j += 1
                }
            } else if line.trimmingCharacters(in: .whitespaces) == "steps:" {
                let stepIndent = indent(lines[i + 1])
                var step: Step?
                var j = i + 1
                while j < lines.count, indent(lines[j]) >= stepIndent {
                    let l = lines[j]
                    if indent(l) == stepIndent && l.trimmingCharacters(in: .whitespaces).hasPrefix("- ") {
                        if let step { workflow.steps.append(step) }
                        step = Step(name: "", run: nil, uses: nil)
                    }
                    if let name = value(l, "name") { step?.name = name }
                    if let uses = value(l, "uses") {
                        step?.uses = uses
                        if step?.name.isEmpty == true { step?.name = uses }
                    }
                    if let run = value(l, "run") {
                        if run == "|" {
                            var body: [String] = []
                            let bodyIndent = indent(lines[j + 1])
                            while j + 1 < lines.count, indent(lines[j + 1]) >= bodyIndent || lines[j + 1].trimmingCharacters(in: .whitespaces).isEmpty {
                                j += 1
                                body.append(String(lines[j].dropFirst(min(bodyIndent, indent(lines[j])))))
                            }
                            step?.run = body.joined(separator: "\n")
                        } else {
                            step?.run = run
                        }
                    }
                    j += 1
                }
                if let step { workflow.steps.append(step) }
                i = j
                continue
            }
            i += 1
        }
        return workflow
    }

    @Test func theRecipeReadsAsTwoEngineJobsWithShellStepsAndUploads() throws {
        let workflow = try Self.workflow()
        #expect(workflow.engines == ["docker", "podman"])
        #expect(workflow.env["CCM_LUA_RUNTIME"] == "${{ matrix.engine }}")
        #expect(workflow.steps.filter { $0.run != nil }.map(\.name) == ["Install Lua 5.4", "Install ccm-lua", "Check the engine", "Run the scenarios"])
        #expect(workflow.steps.compactMap(\.uses) == ["actions/checkout@v4", "actions/checkout@v4", "swift-actions/setup-swift@v2",
                                                      "actions/upload-artifact@v4"])
    }

    @Test(.disabled(if: Integration.isRootless, "builds ccm-lua in the checkout's .build, which belongs to whoever built the tests; the rootful runs cover the recipe"),
          arguments: Engine.allCases)
    func theRecipesShellStepsRunAndLeaveWhatItUploads(_ engine: Engine) async throws {
        let names = ["a", "b"].map { RunnerTests.unique("ci\($0)", engine) }
        let workflow = try Self.workflow()
        try await ScenarioTests.withScenario(engine, clusters: names) { scenario in
            let root = scenario.folder.deletingLastPathComponent()
            let work = root.appendingPathComponent("work"), home = root.appendingPathComponent("runner-home")
            let shims = root.appendingPathComponent("shims"), githubPath = root.appendingPathComponent("github_path")
            for dir in [work, home, shims] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
            _ = FileManager.default.createFile(atPath: githubPath.path, contents: nil)
            // What the two checkouts would give: the user's suite, and ccm-lua's source beside it.
            try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("ccm-lua"), withDestinationURL: Scenario.repository)
            for (file, name) in zip(["a_spec.lua", "b_spec.lua"], names) {
                let url = work.appendingPathComponent("spec/\(file)")
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try """
                    describe("\(file)", function()
                      it("keeps a key", function()
                        local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 1, start = true }
                        c:node(1):etcdctl("put", "k", "v")
                        assert.equal("v", (c:node(1):etcdctl("get", "k", "--print-value-only"):gsub("%s+$", "")))
                      end)
                    end)
                    """.write(to: url, atomically: true, encoding: .utf8)
            }
            // The runner's sudo, as root on a machine without one.
            if geteuid() == 0 {
                let sudo = shims.appendingPathComponent("sudo")
                try "#!/bin/sh\nexec \"$@\"\n".write(to: sudo, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sudo.path)
            }
            var env = scenario.environment
            env["HOME"] = home.path
            // The test runs under `swift test`, which holds .build: the install builds in a
            // folder of its own, kept between runs, its dependencies' sources copied from .build.
            let buildDir = Scenario.repository.appendingPathComponent(".build/ci-recipe")
            if !FileManager.default.fileExists(atPath: buildDir.appendingPathComponent("workspace-state.json").path) {
                try FileManager.default.createDirectory(at: buildDir, withIntermediateDirectories: true)
                for item in ["checkouts", "repositories", "workspace-state.json"] {
                    let from = Scenario.repository.appendingPathComponent(".build/\(item)"), to = buildDir.appendingPathComponent(item)
                    try? FileManager.default.removeItem(at: to)
                    try FileManager.default.copyItem(at: from, to: to)
                }
            }
            env["CCM_LUA_BUILD_DIR"] = buildDir.path
            defer {
                // SwiftPM's manifest-cache lock for a HOME in /tmp lands in /tmp itself.
                let stray = "_" + home.path.replacingOccurrences(of: "/", with: "_").dropFirst()
                for name in (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? [] where name.hasPrefix(String(stray)) {
                    try? FileManager.default.removeItem(atPath: "/tmp/\(name)")
                }
            }
            env["GITHUB_PATH"] = githubPath.path
            env["CCM_LUA_PULL"] = "never"
            for (key, value) in workflow.env { env[key] = value.replacingOccurrences(of: "${{ matrix.engine }}", with: engine.rawValue) }
            #expect(env["CCM_LUA_RUNTIME"] == engine.rawValue)
            let basePath = "\(shims.path):\(env["PATH"] ?? "/usr/bin:/bin")"
            for step in workflow.steps {
                guard let script = step.run else { continue }  // a GitHub action: see docs/ci.md
                // GitHub puts each line of $GITHUB_PATH before PATH for the steps that follow.
                let added = (try String(contentsOf: githubPath, encoding: .utf8)).split(separator: "\n").reversed().joined(separator: ":")
                env["PATH"] = added.isEmpty ? basePath : "\(added):\(basePath)"
                let command = script.replacingOccurrences(of: "${{ matrix.engine }}", with: engine.rawValue)
                let result = try Self.shell(command, in: work, environment: env)
                #expect(result.status == 0, "step '\(step.name)' failed (\(result.status)):\n\(result.output)")
                if result.status != 0 { return }
            }
            #expect(FileManager.default.isExecutableFile(atPath: home.appendingPathComponent(".local/bin/ccm-lua").path))
            // What the upload step keeps.
            let junit = try String(contentsOf: work.appendingPathComponent("junit.xml"), encoding: .utf8)
            #expect(junit.contains("tests=\"2\"") && junit.contains("failures=\"0\""), "\(junit)")
            let report = try String(contentsOf: work.appendingPathComponent("report.html"), encoding: .utf8)
            #expect(report.components(separatedBy: "<details class=\"test passed\"").count - 1 == 2)
            let artifacts = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("artifacts").path).sorted()
            #expect(artifacts == ["a_spec.lua-keeps-a-key", "b_spec.lua-keeps-a-key", "history.jsonl", "report.html"], "\(artifacts)")
            #expect(try await scenario.leftovers(names).isEmpty)
        }
    }

    /// Runs a step as GitHub does (`bash -e`), output and errors together.
    static func shell(_ script: String, in directory: URL, environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["--noprofile", "--norc", "-eo", "pipefail", "-c", script]
        process.currentDirectoryURL = directory
        process.environment = environment
        let log = directory.appendingPathComponent(".step-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try? handle.close()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
