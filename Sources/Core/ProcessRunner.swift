import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs one host program to completion and collects what it printed. The engine layer
/// (`docker ...`, `podman ...`) and `exec.host` both go through here.
public enum ProcessRunner {
    public struct Output: Sendable {
        public var code: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        /// Seconds of wall time.
        public var duration: Double
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// A program did not finish within its time limit; it has been killed.
    public struct TimedOut: Error, Sendable {
        public var argv: [String]
        public var seconds: Double
    }

    /// The program printed more than `outputLimit` bytes on one stream; it has been killed.
    public struct OutputLimitExceeded: Error, Sendable {
        public var argv: [String]
        public var limit: Int
    }

    /// The program could not be started at all (not found, not executable).
    public struct LaunchFailed: Error, Sendable {
        public var argv: [String]
        public var reason: String
    }

    /// Collected output is capped so a runaway program cannot exhaust memory.
    public static let outputLimit = 256 * 1024 * 1024

    /// Runs `argv` (`argv[0]` is looked up on PATH unless it contains a `/`).
    /// - Parameters:
    ///   - environment: added to (and overriding) this process's environment.
    ///   - stdin: bytes written to the program's standard input; nil gives it none.
    ///   - timeout: seconds; the program is killed when it runs longer and `TimedOut` is thrown.
    public static func run(
        _ argv: [String],
        environment: [String: String] = [:],
        stdin: [UInt8]? = nil,
        workingDirectory: String? = nil,
        timeout: Double? = nil
    ) async throws -> Output {
        precondition(!argv.isEmpty, "ProcessRunner.run needs a program name")
        let started = ContinuousClock.now
        let executable: Executable = argv[0].contains("/") ? .path(FilePath(argv[0])) : .name(argv[0])
        let env = environment.isEmpty ? Environment.inherit : Environment.inherit.updating(
            Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) }))
        let directory = workingDirectory.map { FilePath($0) }
        let arguments = Arguments(Array(argv.dropFirst()))

        @Sendable func launch() async throws -> Output {
            let status: TerminationStatus, out: [UInt8], err: [UInt8]
            // Output is collected from the streams rather than with `.bytes(limit:)`, which
            // reserves the whole limit up front for each stream: with a 256 MiB cap that costs
            // about a millisecond per call, a tenth of what an exec round trip may add.
            @Sendable func collect(_ execution: Execution<some InputProtocol, SequenceOutput, SequenceOutput>) async throws -> ([UInt8], [UInt8]) {
                async let stdout = gather(execution.standardOutput)
                async let stderr = gather(execution.standardError)
                return try await (stdout, stderr)
            }
            do {
                if let stdin {
                    let result = try await Subprocess.run(executable, arguments: arguments, environment: env,
                                                          workingDirectory: directory, input: .array(stdin),
                                                          output: .sequence, error: .sequence, body: collect)
                    (status, (out, err)) = (result.terminationStatus, result.closureResult)
                } else {
                    let result = try await Subprocess.run(executable, arguments: arguments, environment: env,
                                                          workingDirectory: directory, input: .none,
                                                          output: .sequence, error: .sequence, body: collect)
                    (status, (out, err)) = (result.terminationStatus, result.closureResult)
                }
            } catch let error as SubprocessError {
                throw LaunchFailed(argv: argv, reason: "\(error)")
            } catch is OutputLimitExceeded {
                throw OutputLimitExceeded(argv: argv, limit: outputLimit)
            }
            let code: Int32
            switch status {
            case .exited(let value): code = Int32(value)
            case .signaled(let signal): code = 128 + Int32(signal)
            }
            let elapsed = ContinuousClock.now - started
            return Output(code: code, stdout: out, stderr: err,
                          duration: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }

        guard let timeout else { return try await launch() }
        return try await withThrowingTaskGroup(of: Output?.self) { group in
            group.addTask { try await launch() }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            defer { group.cancelAll() }  // cancelling the run tears the process down (SIGKILL)
            guard let first = try await group.next(), let output = first else {
                throw TimedOut(argv: argv, seconds: timeout)
            }
            return output
        }
    }

    /// Reads a stream to its end, up to `outputLimit` bytes.
    static func gather(_ sequence: SubprocessOutputSequence) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in sequence {
            buffer.withUnsafeBytes { bytes.append(contentsOf: $0) }
            if bytes.count > outputLimit {
                throw OutputLimitExceeded(argv: [], limit: outputLimit)
            }
        }
        return bytes
    }

    /// One event of a streamed program: a line it printed, or how it ended (always the last event).
    public enum StreamEvent: Sendable, Equatable {
        public enum Source: Sendable { case stdout, stderr }
        case line(Source, String)
        case exited(Int32)
    }

    /// Runs `argv` and streams its stdout and stderr line by line (split on `\n` only, so a `\r`
    /// inside a line survives), then its exit code.
    ///
    /// When the consumer stops iterating (breaks out of the loop, or its task is cancelled), the
    /// program is killed and reaped before the stream's task ends: nothing is left running. This is
    /// what `logs --follow` needs.
    public static func stream(_ argv: [String], environment: [String: String] = [:]) -> AsyncThrowingStream<StreamEvent, any Error> {
        precondition(!argv.isEmpty, "ProcessRunner.stream needs a program name")
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: StreamEvent.self, throwing: (any Error).self)
        let executable: Executable = argv[0].contains("/") ? .path(FilePath(argv[0])) : .name(argv[0])
        let env = environment.isEmpty ? Environment.inherit : Environment.inherit.updating(
            Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) }))
        let arguments = Arguments(Array(argv.dropFirst()))
        let task = Task {
            do {
                let result = try await Subprocess.run(executable, arguments: arguments, environment: env,
                                                      input: .none, output: .sequence, error: .sequence) { execution in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await line in execution.standardOutput.strings(separatedBy: .unicodeScalarSequence(["\n"]),
                                                                                   bufferingPolicy: .unbounded) {
                                continuation.yield(.line(.stdout, line))
                            }
                        }
                        group.addTask {
                            for try await line in execution.standardError.strings(separatedBy: .unicodeScalarSequence(["\n"]),
                                                                                  bufferingPolicy: .unbounded) {
                                continuation.yield(.line(.stderr, line))
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                let code: Int32
                switch result.terminationStatus {
                case .exited(let value): code = Int32(value)
                case .signaled(let signal): code = 128 + Int32(signal)
                }
                continuation.yield(.exited(code))
                continuation.finish()
            } catch let error as SubprocessError where !Task.isCancelled {
                continuation.finish(throwing: LaunchFailed(argv: argv, reason: "\(error)"))
            } catch {
                continuation.finish(throwing: Task.isCancelled ? nil : error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
