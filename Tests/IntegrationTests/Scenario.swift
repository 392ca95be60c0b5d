import Foundation
import Testing
import Core

/// Runs `ccm-lua` scripts the way a user does (the built binary, a fresh process, its own state
/// directory) against one engine, and reports what they printed and left behind.
struct Scenario {
    let engine: Engine
    /// CCM_LUA_HOME of this scenario: state folders of its clusters.
    let home: URL
    let folder: URL

    init(engine: Engine) throws {
        self.engine = engine
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-scenario-\(UUID().uuidString)")
        home = root.appendingPathComponent("home")
        folder = root.appendingPathComponent("scripts")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Environment of every run: this engine, this state folder, the local test images.
    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["CCM_LUA_RUNTIME"] = engine.rawValue
        env["CCM_LUA_HOME"] = home.path
        env["ETCD_DOCKER_IMAGE"] = Integration.etcdImage
        env["CCM_LUA_LOG_LEVEL"] = nil
        return env
    }

    /// Writes `source` as `name` in the scenario folder and returns its path.
    @discardableResult
    func write(_ name: String, _ source: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try source.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Starts the binary; stdout comes through a pipe so a test can wait for a line.
    func start(_ arguments: [String]) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = folder
        // stderr goes to a file: a pipe nobody reads while the test waits on stdout could fill up.
        let errorFile = folder.appendingPathComponent("stderr-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errorFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, stdout: out.fileHandleForReading, stderrFile: errorFile)
    }

    func run(_ arguments: [String]) throws -> Result {
        try start(arguments).finish()
    }

    /// Runs `script`, which must exit 0, print every one of `lines` and leave nothing of
    /// `clusters` behind.
    func expectSuccess(_ script: String, printing lines: [String], leaving clusters: [String],
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let result = try run([script])
        #expect(result.status == 0, "stderr:\n\(result.stderr)", sourceLocation: sourceLocation)
        for line in lines {
            #expect(result.stdout.contains(line), "missing '\(line)' in:\n\(result.stdout)", sourceLocation: sourceLocation)
        }
        #expect(try await leftovers(clusters).isEmpty, "left behind", sourceLocation: sourceLocation)
    }

    /// Everything of this engine labelled with one of `clusters` (containers and networks).
    func leftovers(_ clusters: [String]) async throws -> [String] {
        let runtime = CLIContainerRuntime(engine: engine)
        var found: [String] = []
        for name in clusters {
            found += try await runtime.listContainers(labels: [Labels.cluster: name]).map { "container \($0.name)" }
            found += try await runtime.listNetworks(labels: [Labels.cluster: name]).map { "network \($0)" }
            if FileManager.default.fileExists(atPath: home.appendingPathComponent(name).path) { found.append("state \(name)") }
        }
        return found
    }

    /// Removes whatever a failed test left, then the scenario's folders.
    func removeAll(_ clusters: [String]) async {
        let runtime = CLIContainerRuntime(engine: engine)
        for name in clusters { _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: runtime) }
        try? FileManager.default.removeItem(at: home.deletingLastPathComponent())
    }

    struct Running {
        let process: Process
        let stdout: FileHandle
        let stderrFile: URL

        /// Reads stdout until a line containing `text` arrives (true) or the process ends (false).
        func waitForLine(containing text: String) -> (found: Bool, seen: String) {
            var seen = ""
            while true {
                let chunk = stdout.availableData
                if chunk.isEmpty { return (false, seen) }
                seen += String(decoding: chunk, as: UTF8.self)
                if seen.contains(text) { return (true, seen) }
            }
        }

        func finish(alreadyRead: String = "") -> Result {
            let out = stdout.readDataToEndOfFile()
            process.waitUntilExit()
            return Result(status: process.terminationStatus, stdout: alreadyRead + String(decoding: out, as: UTF8.self),
                          stderr: (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "")
        }
    }
}
