import Foundation

/// Runs the built `ccm-lua` binary as a user would and collects what they would see.
enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Every file these tests make lives in one folder per test process, removed when the process
    /// exits: a failing test, or one that forgets its folder, leaves nothing behind in /tmp. Folders
    /// of test processes that died without exiting are removed on the next run.
    static let scratch: URL = {
        let files = FileManager.default
        let temporary = files.temporaryDirectory
        for name in (try? files.contentsOfDirectory(atPath: temporary.path)) ?? [] where name.hasPrefix("ccm-cli-") {
            if let pid = Int32(name.dropFirst("ccm-cli-".count)), kill(pid, 0) != 0, errno == ESRCH {
                try? files.removeItem(at: temporary.appendingPathComponent(name))
            }
        }
        let root = temporary.appendingPathComponent("ccm-cli-\(getpid())")
        try? files.createDirectory(at: root, withIntermediateDirectories: true)
        atexit {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-cli-\(getpid())")
            try? FileManager.default.removeItem(at: root)
        }
        return root
    }()

    /// A new path in `scratch`, named `prefix-<8 hex digits>`: short, because Lua shortens long
    /// script paths in its messages and the tests compare those messages whole.
    static func scratchPath(_ prefix: String) -> URL {
        scratch.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
    }

    /// Next to the test bundle (.build/debug), or CCM_LUA_BINARY.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["CCM_LUA_BINARY"] { return path }
        var candidates: [URL] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(folder.appendingPathComponent("ccm-lua"))
            folder = folder.deletingLastPathComponent()
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/ccm-lua"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate.path
        }
        fatalError("ccm-lua binary not found (run `swift build` first, or set CCM_LUA_BINARY)")
    }()

    /// Starts the binary with stdout on a pipe (read it as it comes) and stderr in a file.
    static func start(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
                      directory: String? = nil) throws -> (process: Process, stdout: Pipe, stderr: URL) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["CCM_LUA_LOG_LEVEL"] = nil
        env["CCM_LUA_PATH"] = nil
        // A run in a test's folder keeps its state (a failed test's artifacts, say) there, so
        // it goes with the folder.
        if let directory, environment["CCM_LUA_HOME"] == nil { env["CCM_LUA_HOME"] = "\(directory)/.ccm-lua-home" }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let errorFile = scratchPath("e").appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let out = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errorFile)
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        return (process, out, errorFile)
    }

    /// Runs the binary to completion. The waiting happens on a thread of its own: blocking one of
    /// Swift's cooperative threads (there are only as many as cores, two here) would stall every
    /// other test's sleeps and timers meanwhile.
    static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
                    directory: String? = nil) async throws -> Result {
        try await offPool { try runBlocking(arguments, stdin: stdin, environment: environment, directory: directory) }
    }

    /// Runs blocking `work` on a new thread and returns its result.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Swift.Result { try work() }) }
        }
    }

    private static func runBlocking(_ arguments: [String], stdin: String?, environment: [String: String],
                                    directory: String?) throws -> Result {
        let (process, out, errorFile) = try start(arguments, stdin: stdin, environment: environment, directory: directory)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: errorFile) }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "")
    }

    /// A scratch folder with the given files (path -> content).
    static func folder(_ files: [String: String]) throws -> String {
        let root = scratchPath("f")
        for (path, content) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root.path
    }
}

