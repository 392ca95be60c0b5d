import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Exec, file copies and logs over the client.
extension CLIContainerRuntime {
    // MARK: Exec

    public func exec(_ container: ContainerRef, _ request: ExecRequest) async throws -> ExecResult {
        precondition(!request.argv.isEmpty, "exec needs a program to run")
        // Only a command with a time limit is marked: the marker is how it is found to be killed.
        let marker = request.timeout.map { _ in "\(Labels.runID)-\(UInt32.random(in: .min ... .max))" }
        let subcommand = arguments.exec(container, request, marker: marker)
        let argv = commandLine(subcommand)
        let output: ProcessRunner.Output
        do {
            output = try await ProcessRunner.run(argv, environment: environment, stdin: request.stdin, timeout: request.timeout)
        } catch let failure as ProcessRunner.LaunchFailed {
            throw EngineErrorClassifier.runtimeNotFound(engine: engine, command: argv, reason: failure.reason)
        } catch let timedOut as ProcessRunner.TimedOut {
            let killed = if let marker { await killMarked(container, marker: marker) } else { false }
            let shown = "`\(request.argv.joined(separator: " "))` in container \(container) ran longer than \(timedOut.seconds) s"
            throw RuntimeError(.timeout, engine: engine,
                               summary: killed ? "\(shown) and was killed."
                                   : "\(shown); it could not be killed and may still run (the container has no shell to kill it from inside, and its engine is not on this machine).",
                               command: argv,
                               hint: killed ? "Give it a longer timeout if it is just slow, or check why it hangs (`\(engine.rawValue) exec \(container) ps aux`)."
                                   : "Restart the node to end it, and bound the command itself (e.g. etcdctl's --command-timeout).")
        } catch let tooLarge as ProcessRunner.OutputLimitExceeded {
            throw RuntimeError(.execFailed, engine: engine,
                               summary: "`\(request.argv.joined(separator: " "))` in container \(container) printed more than \(tooLarge.limit / 1_048_576) MiB and was stopped.",
                               command: argv, hint: "Redirect its output to a file inside the container and copy that out with copyOut.")
        }
        if EngineErrorClassifier.isEngineExecFailure(engine: engine, exitCode: output.code,
                                                     stderr: output.stderrText, stdout: output.stdoutText) {
            throw classify(output, argv: argv, subject: .exec(container))
        }
        return ExecResult(code: output.code, stdout: output.stdoutText, stderr: output.stderrText, duration: output.duration)
    }

    /// Ends a timed-out exec'd process and its children. Killing the `docker exec`/`podman exec`
    /// client leaves them running in the container, so they are found by their marker variable:
    /// first from inside the container (works for remote engines; needs `sh`), then, if that
    /// could not run (an image without a shell), in the host's /proc (a local engine's container
    /// processes are visible there). False when neither reached it: a shell-less image on a
    /// remote engine.
    func killMarked(_ container: ContainerRef, marker: String) async -> Bool {
        let inside = try? await ProcessRunner.run(commandLine(arguments.killMarked(container, marker: marker)),
                                                  environment: environment, timeout: 10)
        if inside?.code == 0 { return true }
        // A remote engine's processes are not in this host's /proc.
        guard !location.isRemote else { return false }
        return HostProcesses.kill(withEnvironmentEntry: "\(CLIArguments.execMarkerVariable)=\(marker)") > 0
    }

    // MARK: Files

    public func copyIn(_ container: ContainerRef, content: [UInt8], to path: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let name = (path as NSString).lastPathComponent
        let file = directory.path + "/" + (name.isEmpty ? "file" : name)
        guard FileManager.default.createFile(atPath: file, contents: Data(content)) else {
            throw RuntimeError(.commandFailed, engine: engine, summary: "Could not write a temporary file for copying into \(container).",
                               hint: "Check that \(directory.path) is writable and the disk is not full.")
        }
        try await run(arguments.copy(from: file, to: "\(container):\(path)"), subject: .copy(container))
    }

    public func copyOut(_ container: ContainerRef, from path: String) async throws -> [UInt8] {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.path + "/out"
        try await run(arguments.copy(from: "\(container):\(path)", to: file), subject: .copy(container))
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: file) else {
            throw RuntimeError(.invalidArgument, engine: engine, summary: "\(path) in container \(container) is not a regular file.",
                               hint: "copyOut copies one file; for a directory, exec `tar` in the container instead.")
        }
        return [UInt8](data)
    }

    // MARK: Logs

    public func logs(_ container: ContainerRef, since: String?, follow: Bool) -> AsyncThrowingStream<LogLine, any Error> {
        guard follow, readsLogFilesDirectly else { return clientLogs(container, since: since, follow: follow) }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: LogLine.self, throwing: (any Error).self)
        let task = Task {
            if let path = await kubeLogPath(container), let handle = FileHandle(forReadingAtPath: path) {
                defer { try? handle.close() }
                await followLogFile(container, handle: handle, path: path, since: since, into: continuation)
                return
            }
            do {
                for try await line in clientLogs(container, since: since, follow: true) { continuation.yield(line) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Whether a followed log is read from the engine's log file on this host rather than through
    /// `logs --follow`: local Podman only (a remote engine's files are not here). Docker's
    /// `logs --follow` already delivers lines within a millisecond or two; Podman's polls its file
    /// every 250 ms.
    var readsLogFilesDirectly: Bool {
        engine == .podman && !location.isRemote
    }

    /// The host path of the container's log when its driver is `k8s-file` and it can be read here.
    /// Followers that begin together (a cluster's nodes) share one `container inspect`.
    func kubeLogPath(_ container: ContainerRef) async -> String? {
        await logPaths.path(of: container) { containers in await kubeLogPaths(containers) }
    }

    /// One `container inspect a b c` for all; one call each when that fails (a container is
    /// missing), so one missing container costs the others nothing.
    private func kubeLogPaths(_ containers: [ContainerRef]) async -> [ContainerRef: String] {
        func parse(_ line: Substring) -> String? {
            let fields = line.split(separator: "\t", maxSplits: 1)
            guard fields.count == 2, fields[0] == "k8s-file", FileManager.default.isReadableFile(atPath: String(fields[1])) else { return nil }
            return String(fields[1])
        }
        func inspect(_ batch: [ContainerRef]) async -> [Substring]? {
            guard let output = try? await run(arguments.logConfig(batch[0]) + batch.dropFirst(), subject: .container(batch[0]), timeout: 30)
            else { return nil }
            let lines = output.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).prefix(batch.count)
            return lines.count == batch.count ? Array(lines) : nil
        }
        var paths: [ContainerRef: String] = [:]
        if containers.count > 1, let lines = await inspect(containers) {
            for (container, line) in zip(containers, lines) { paths[container] = parse(line) }
            return paths
        }
        for container in containers { paths[container] = await inspect([container])?.first.flatMap(parse) }
        return paths
    }

    /// Follows a `k8s-file` log: reads what is there, then sleeps until the file is written to
    /// (inotify; a 10 ms poll where that is missing). Lines from `since` on are delivered (the
    /// line at `since` itself again too: `NodeLog` drops what it has). Ends like `logs --follow`:
    /// when the container is not running (told by `podman wait`), after reading what it printed
    /// last; or with the engine's error when the container does not exist.
    private func followLogFile(_ container: ContainerRef, handle: FileHandle, path: String, since: String?,
                               into continuation: AsyncThrowingStream<LogLine, any Error>.Continuation) async {
        let watcher = FileWatcher(path: path)
        defer { watcher?.cancel() }
        let wake = watcher?.changed ?? ChangeSignal()
        let ended = Mutex<(done: Bool, error: RuntimeError?)>((false, nil))
        let argv = commandLine(arguments.wait(container))
        let waiter = Task {
            var code: Int32 = 0
            var messages: [String] = []
            do {
                for try await event in ProcessRunner.stream(argv, environment: environment) {
                    switch event {
                    case .line(.stderr, let text): messages.append(text)
                    case .line: break
                    case .exited(let value): code = value
                    }
                }
            } catch {
                code = -1
                messages.append("\(error)")
            }
            guard !Task.isCancelled else { return }
            let error = code == 0 ? nil : EngineErrorClassifier.classify(
                engine: engine, command: argv, exitCode: code, stderr: messages.joined(separator: "\n"), subject: .container(container))
            ended.withLock { $0 = (true, error) }
            wake.signal()
        }
        defer { waiter.cancel() }

        let start = since.flatMap { LogTimestamp($0) }
        var reader = KubeLogReader()
        /// Reads what is new; false when there was nothing.
        @discardableResult func drain() -> Bool {
            var any = false
            while let data = try? handle.read(upToCount: 65536), !data.isEmpty {
                any = true
                for line in reader.feed(data) {
                    if let start, let stamp = LogTimestamp(line.timestamp), stamp < start { continue }
                    continuation.yield(line)
                }
            }
            // Truncated (a size limit was reached): start over at the beginning.
            var info = stat()
            if fstat(handle.fileDescriptor, &info) == 0, let offset = try? handle.offset(), UInt64(info.st_size) < offset {
                try? handle.seek(toOffset: 0)
                reader = KubeLogReader()
            }
            return any
        }
        var woken = false
        while !Task.isCancelled {
            let seen = wake.version
            let state = ended.withLock { $0 }
            if !drain(), woken, !state.done { Self.countEmptyWakeup(of: path) }
            woken = true
            if state.done {
                try? await Task.sleep(for: .milliseconds(50))   // conmon may still be writing the last lines
                drain()
                continuation.finish(throwing: state.error)
                return
            }
            // With inotify: asleep until the file is written to or `podman wait` returns (no timer,
            // so a quiet node costs nothing); without, a 10 ms poll.
            if watcher != nil { _ = await wake.wait(after: seen) } else { _ = await wake.wait(after: seen, until: .now + .milliseconds(10)) }
        }
        continuation.finish()
    }

    /// Wake-ups of a followed log file that found nothing new, by path: a follower must sleep
    /// while its container prints nothing (a test reads this).
    private static let emptyWakeupCounts = Mutex<[String: Int]>([:])
    static func emptyWakeups(of path: String) -> Int { emptyWakeupCounts.withLock { $0[path] ?? 0 } }
    private static func countEmptyWakeup(of path: String) { emptyWakeupCounts.withLock { $0[path, default: 0] += 1 } }

    /// `logs` through the client (`logs --timestamps [--since] [--follow]`).
    func clientLogs(_ container: ContainerRef, since: String?, follow: Bool) -> AsyncThrowingStream<LogLine, any Error> {
        let argv = commandLine(arguments.logs(container, since: since, follow: follow))
        let events = ProcessRunner.stream(argv, environment: environment)
        let engine = self.engine
        // The engines disagree on `--since`: Docker repeats the line at exactly that time, Podman
        // does not. ccm-lua's contract is Podman's (strictly after), so a reader that resumes from
        // the last timestamp it saw reads nothing twice.
        let after = since.map(CLIOutput.sortableTimestamp)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: LogLine.self, throwing: (any Error).self)
        let task = Task {
            // The container's own stdout and stderr arrive on the client's stdout and stderr, every
            // line timestamped; a stderr line without a timestamp is the engine talking.
            var engineMessages: [String] = []
            do {
                for try await event in events {
                    switch event {
                    case .line(let source, let text):
                        if var line = CLIOutput.logLine(text[...]) {
                            if let after, CLIOutput.sortableTimestamp(line.timestamp) <= after { continue }
                            line.isStderr = source == .stderr
                            continuation.yield(line)
                        } else if source == .stderr {
                            engineMessages.append(text)
                        } else if !text.isEmpty {
                            // A continuation of a line without its own timestamp (should not happen).
                            continuation.yield(LogLine(timestamp: "", text: text))
                        }
                    case .exited(let code):
                        if code != 0 && !Task.isCancelled {
                            continuation.finish(throwing: EngineErrorClassifier.classify(
                                engine: engine, command: argv, exitCode: code,
                                stderr: engineMessages.joined(separator: "\n"), subject: .container(container)))
                            return
                        }
                    }
                }
                continuation.finish()
            } catch let failure as ProcessRunner.LaunchFailed {
                continuation.finish(throwing: EngineErrorClassifier.runtimeNotFound(engine: engine, command: argv, reason: failure.reason))
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}

extension EngineErrorClassifier {
    /// Whether a failed exec failed in the engine (container stopped or missing, program not
    /// found) rather than in the program, whose non-zero exit is a normal result. The engines
    /// fail before the program starts, so their message is all of stderr (Docker prints "OCI
    /// runtime exec failed" on stdout); a program that happens to exit 126 or 127 with other
    /// output is left alone.
    public static func isEngineExecFailure(engine: Engine, exitCode: Int32, stderr: String, stdout: String) -> Bool {
        guard exitCode != 0 else { return false }
        let err = cleaned(stderr).lowercased()
        let out = stdout.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if daemonUnreachable(err) != nil { return true }
        switch engine {
        case .docker:
            if (exitCode == 126 || exitCode == 127)
                && (out.hasPrefix("oci runtime exec failed") || err.hasPrefix("oci runtime exec failed")) { return true }
            return err.hasPrefix("error response from daemon:") || err.hasPrefix("error: no such container")
        case .podman:
            guard [125, 126, 127, 255].contains(exitCode), err.hasPrefix("error: ") else { return false }
            return ["container state improper", "no such container", "no container with name or id", "oci runtime",
                    "executable file not found", "exec sessions", "is not running", "is paused"].contains { err.contains($0) }
        }
    }
}

/// A private directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/ccm-lua-\(Labels.runID)-\(UInt64.random(in: .min ... .max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
