import Foundation
import Synchronization

/// The built `ccm-lua` binary, run as a user would (the CLI tests' runner, plus output read while
/// the process runs, for `logs -f` and for scripts that announce they are ready).
enum Binary {
    /// Next to the test bundle (.build/debug), or CCM_LUA_BINARY.
    static let path: String = {
        if let path = ProcessInfo.processInfo.environment["CCM_LUA_BINARY"] { return path }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates: [URL] = []
        for _ in 0..<4 {
            candidates.append(folder.appendingPathComponent("ccm-lua"))
            folder = folder.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/ccm-lua"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            fatalError("ccm-lua binary not found (run `swift build` first, or set CCM_LUA_BINARY)")
        }
        return found.path
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs to completion with CCM_LUA_HOME = `home`.
    static func run(_ arguments: [String], home: URL) throws -> Result {
        let running = try Running(arguments, home: home)
        running.process.waitUntilExit()
        running.finish()
        return Result(status: running.process.terminationStatus, stdout: running.stdout, stderr: running.stderr)
    }

    /// A started binary whose output is collected as it comes.
    final class Running: Sendable {
        let process: Process
        private let out = Buffer()
        private let err = Buffer()
        /// How many of the two output streams reached end of file.
        private let closed = Counter()

        init(_ arguments: [String], home: URL, environment: [String: String] = [:]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Binary.path)
            process.arguments = arguments
            var env = ProcessInfo.processInfo.environment
            env["CCM_LUA_HOME"] = home.path
            env["CCM_LUA_LOG_LEVEL"] = nil
            env.merge(environment) { $1 }
            process.environment = env
            let outPipe = Pipe(), errPipe = Pipe()
            process.standardOutput = outPipe
            process.standardError = errPipe
            process.standardInput = FileHandle.nullDevice
            self.process = process
            try process.run()
            for (handle, sink) in [(outPipe.fileHandleForReading, out), (errPipe.fileHandleForReading, err)] {
                let closed = self.closed
                // A thread per stream: blocking reads must not occupy the test's concurrency pool.
                Thread.detachNewThread {
                    while case let data = handle.availableData, !data.isEmpty { sink.data.withLock { $0.append(data) } }
                    closed.value.withLock { $0 += 1 }
                }
            }
        }

        var stdout: String { out.data.withLock { String(decoding: $0, as: UTF8.self) } }
        var stderr: String { err.data.withLock { String(decoding: $0, as: UTF8.self) } }

        /// Waits (after exit) until the readers saw end of file, so the output is complete.
        func finish() {
            let deadline = Date().addingTimeInterval(10)
            while closed.value.withLock({ $0 }) < 2, Date() < deadline { usleep(10_000) }
        }

        /// Waits up to `seconds` for `text` on stdout.
        func waitForOutput(_ text: String, seconds: Double) async -> Bool {
            await eventually(seconds) { self.stdout.contains(text) || !self.process.isRunning && self.finished(text) }
        }

        private func finished(_ text: String) -> Bool { finish(); return stdout.contains(text) }

        /// Waits up to `seconds` for the process to exit; kills it (SIGKILL) when it does not.
        func waitForExit(seconds: Double) async -> Bool {
            let exited = await eventually(seconds) { !self.process.isRunning }
            if !exited { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
            finish()
            return exited
        }
    }
}

/// Output collected by a reader thread.
final class Buffer: Sendable {
    let data = Mutex(Data())
}

final class Counter: Sendable {
    let value = Mutex(0)
}
