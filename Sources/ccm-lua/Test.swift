import ArgumentParser
import Bindings
import Core
import Foundation
import Synchronization

/// `ccm-lua test FILES|DIRS...`: runs describe/it suites. Every file runs in a worker process of
/// its own (this binary with the hidden `--events-fd`), `-j` of them at once; a worker reports
/// each result as a JSON line on that descriptor, and this process prints and collects them.
struct Test: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run describe/it test files (a folder: its *_spec.lua and *_test.lua files).",
        discussion: """
            Exit status: 0 when every selected test passed (pending ones count as passed), 1 when
            one failed, errored or timed out, or a file did not load; 64 for a wrong option.
            """)

    @Argument(help: "Test files, or folders searched recursively for *_spec.lua and *_test.lua.")
    var paths: [String] = []

    @Option(name: .short, help: "How many files run at once, each in its own process and clusters.")
    var j: Int = 1
    @Option(help: "Run only tests whose full name (\"describe it\") matches this Lua pattern (repeatable).")
    var filter: [String] = []
    @Option(name: .customLong("filter-out"), help: "Skip tests whose full name matches this Lua pattern (repeatable).")
    var filterOut: [String] = []
    @Option(help: "Run only tests with one of these tags (comma-separated, repeatable).")
    var tags: [String] = []
    @Option(name: .customLong("exclude-tags"), help: "Skip tests with one of these tags.")
    var excludeTags: [String] = []
    @Flag(help: "Name the selected tests; run nothing.")
    var list = false
    @Option(help: "The run's seed: test order with --shuffle, generated names, fault choices.")
    var seed: Int64?
    @Flag(help: "Run files, and tests within each describe block, in an order drawn from the seed.")
    var shuffle = false
    @Option(name: .customLong("repeat"), help: "Run the selected tests N times.")
    var repeatCount: Int = 1
    @Flag(name: .customLong("exit-first"), help: "Stop at the first test that does not pass.")
    var exitFirst = false
    @Flag(name: .customLong("keep-on-failure"), help: "Keep the clusters of a failed test (remove them with `ccm-lua rm`).")
    var keepOnFailure = false
    @Option(help: "Keep every test's node logs, inspect output, configs, images, seed and history here, with history.jsonl and report.html (default: failed tests only, in the state folder's _artifacts/).")
    var artifacts: String?
    @Option(help: "Also write the HTML report (tests, per-test timelines) to this file.")
    var report: String?
    @Option(help: "Also write the run's history (JSON lines) to this file.")
    var history: String?
    @Option(help: "Time limit in seconds for tests that set none (default \(Int(Defaults.testTimeout))).")
    var timeout: Double?
    @Option(name: [.short, .customLong("output")], help: "utf, plain, tap, junit or json (default: utf on a terminal, else plain).")
    var output: String?
    @Option(help: "Also write a JUnit XML report to this file.")
    var junit: String?
    @Flag(name: .short, help: "More log output from the scenarios (repeatable).")
    var verbose: Int
    @Flag(name: .short, help: "Less log output.")
    var quiet: Int

    /// Set in worker processes: where to write results (one JSON line each).
    @Option(name: .customLong("events-fd"), help: .hidden)
    var eventsFD: Int32?
    /// Set in worker processes: where failed tests' artifacts go when no --artifacts was given.
    @Option(name: .customLong("failure-artifacts"), help: .hidden)
    var failureArtifacts: String?
    /// Set in worker processes: where the worker's history goes when it exits.
    @Option(name: .customLong("history-out"), help: .hidden)
    var historyOut: String?

    mutating func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("name at least one test file or folder, e.g. `ccm-lua test spec/`") }
        guard j >= 1 else { throw ValidationError("-j must be at least 1") }
        guard repeatCount >= 1 else { throw ValidationError("--repeat must be at least 1") }
        if let seed, !RunSeed.range.contains(seed) {
            throw ValidationError("--seed must be between 0 and \(RunSeed.range.upperBound)")
        }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a number of seconds > 0") }
        if let output, TestOutputFormat(rawValue: output) == nil {
            throw ValidationError("-o must be one of \(TestOutputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        if let eventsFD {
            throw ExitCode(await runWorker(file: paths[0], eventsFD: eventsFD))
        }
        let files: [String]
        do { files = try TestFiles.find(paths) } catch let problem as TestFiles.Problem {
            FileHandle.standardError.write(Data("ccm-lua test: \(problem.message)\n".utf8))
            throw ExitCode(1)
        }
        throw ExitCode(await runFiles(files))
    }

    // MARK: The coordinating process

    private func runFiles(_ files: [String]) async -> Int32 {
        let seed = self.seed ?? RunSeed.random()
        let format = output.flatMap(TestOutputFormat.init(rawValue:)) ?? (isatty(1) != 0 ? .utf : .plain)
        let toConsole = format == .utf || format == .plain
        var ordered = files
        if shuffle {
            var generator = SeededGenerator(seed: seed)
            ordered.shuffle(using: &generator)
        }
        let console = TestConsole(format: format, seed: seed, live: toConsole && isatty(1) != 0, echo: toConsole)
        if toConsole && !list {
            FileHandle.standardOutput.write(Data("ccm-lua test: \(files.count) file\(files.count == 1 ? "" : "s"), seed \(seed)\n".utf8))
        }
        var base = ProcessInfo.processInfo.environment
        base[RunSeed.variable] = String(seed)
        let environment = base
        let pool = WorkerPool(console: console, exitFirst: exitFirst)
        let outputs = RunOutputs(artifacts: artifacts, list: list)
        var arguments = workerArguments()
        if artifacts == nil, !list { arguments += ["--failure-artifacts", outputs.artifacts.path] }
        let frozenArguments = arguments, listing = list
        await pool.run(ordered, width: j) { file, eventsFD in
            let history = listing ? [] : ["--history-out", outputs.workerHistory(for: file).path]
            return try ChildProcess.spawn([ChildProcess.currentExecutable, "test", "--events-fd", "3"] + frozenArguments
                                          + history + ["--", file],
                                          environment: environment, files: [0: 0, 1: 1, 2: 2, 3: eventsFD], newProcessGroup: true)
        }
        let report = console.finish()
        if !list {
            let written = outputs.finish(report, historyFile: history ?? ProcessInfo.processInfo.environment[HistoryFile.variable],
                                         reportFile: self.report)
            if toConsole { for line in written { FileHandle.standardOutput.write(Data((line + "\n").utf8)) } }
            else { for line in written { FileHandle.standardError.write(Data(("ccm-lua test: " + line + "\n").utf8)) } }
        }
        if let signal = pool.interruption {
            FileHandle.standardError.write(Data("ccm-lua test: interrupted\n".utf8))
            return 128 + signal
        }
        if !toConsole { FileHandle.standardOutput.write(Data(report.rendered(format).utf8)) }
        if let junit {
            do { try report.junit().write(toFile: junit, atomically: true, encoding: .utf8) } catch {
                FileHandle.standardError.write(Data("ccm-lua test: cannot write the JUnit report to \(junit): \(error.localizedDescription)\n".utf8))
                return 1
            }
        }
        return report.passed ? 0 : 1
    }

    /// The options a worker needs (everything that shapes one file's run).
    private func workerArguments() -> [String] {
        var arguments: [String] = []
        for pattern in filter { arguments += ["--filter", pattern] }
        for pattern in filterOut { arguments += ["--filter-out", pattern] }
        for tag in tags { arguments += ["--tags", tag] }
        for tag in excludeTags { arguments += ["--exclude-tags", tag] }
        if list { arguments.append("--list") }
        if shuffle { arguments.append("--shuffle") }
        if repeatCount > 1 { arguments += ["--repeat", String(repeatCount)] }
        if exitFirst { arguments.append("--exit-first") }
        if keepOnFailure { arguments.append("--keep-on-failure") }
        if let artifacts { arguments += ["--artifacts", URL(fileURLWithPath: artifacts).path] }
        if let timeout { arguments += ["--timeout", String(timeout)] }
        arguments += Array(repeating: "-v", count: verbose) + Array(repeating: "-q", count: quiet)
        return arguments
    }

    // MARK: A worker: one file

    private func runWorker(file: String, eventsFD: Int32) async -> Int32 {
        signal(SIGPIPE, SIG_IGN)  // a coordinator that is gone must not kill us before our cleanup
        var config = TestRunConfig()
        config.filter = filter
        config.filterOut = filterOut
        config.tags = tags.flatMap { $0.split(separator: ",").map(String.init) }
        config.excludeTags = excludeTags.flatMap { $0.split(separator: ",").map(String.init) }
        config.list = list
        config.shuffle = shuffle
        config.seed = seed ?? RunSeed.current
        config.repeatCount = repeatCount
        config.exitFirst = exitFirst
        config.keepOnFailure = keepOnFailure
        config.artifacts = artifacts ?? failureArtifacts
        config.artifactsEveryTest = artifacts != nil
        if let historyOut { HistoryFile.writeAtExit(to: historyOut) }
        config.timeout = timeout ?? Defaults.testTimeout
        config.file = file
        let sink = TestEventWriter(fd: eventsFD)
        var settings = HostSettings.fromEnvironment(verbosity: verbose - quiet)
        // A test run shows results; the scenario's info lines only with -v.
        if verbose == 0, ProcessInfo.processInfo.environment["CCM_LUA_LOG_LEVEL"] == nil {
            settings.logLevel = quiet > 0 ? .error : .warn
        }
        let folder = (file as NSString).deletingLastPathComponent
        settings.scriptFolder = folder.isEmpty ? "." : folder
        LuaHost.handleSignals()
        let frozen = config
        let invocation = LuaHost.Invocation(
            actions: [.code("return require('ccm.test').run_file(arg[0])")],
            commandLine: ["ccm-lua", file], scriptIndex: 1,
            setup: { vm in TestRunnerModule.install(in: vm, config: frozen, sink: sink) })
        return await LuaHost.run(invocation, settings: settings).status
    }
}

/// Results of a worker, one JSON line each, on the descriptor its parent gave it.
final class TestEventWriter: TestEventSink {
    private let handle: FileHandle

    init(fd: Int32) { handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false) }

    func record(_ result: TestResult) { write(result) }

    func started(file: String, name: String) { write(TestStarted(started: name)) }

    private func write(_ event: some Encodable) {
        guard var data = try? JSONEncoder().encode(event) else { return }
        data.append(0x0A)
        try? handle.write(contentsOf: data)
    }

    func note(_ text: String) { FileHandle.standardError.write(Data(("ccm-lua test: " + text + "\n").utf8)) }
    func finish() {}
}

/// A worker's "this test begins" line, for live progress.
struct TestStarted: Codable { var started: String }

/// Runs worker processes, `width` at a time, and feeds their results to the console.
final class WorkerPool: @unchecked Sendable {
    private let console: TestConsole
    private let exitFirst: Bool
    private let lock = NSLock()
    private var stopping = false
    private var running: [pid_t] = []

    private var signalSources: [any DispatchSourceSignal] = []
    /// The signal that interrupted the run, if one did.
    private(set) var interruption: Int32? {
        get { lock.withLock { interrupted } }
        set { lock.withLock { interrupted = newValue } }
    }
    private var interrupted: Int32?

    init(console: TestConsole, exitFirst: Bool) { self.console = console; self.exitFirst = exitFirst }

    /// Workers run in process groups of their own: a Ctrl-C reaches this process only, which
    /// passes it on once to each worker (they clean up as a script does) and starts no more.
    private func forwardSignals() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { [unowned self] in
                let workers: [pid_t] = lock.withLock {
                    guard interrupted == nil else { return [] }
                    interrupted = number
                    stopping = true
                    return running
                }
                for pid in workers { kill(pid, number) }
            }
            source.resume()
            signalSources.append(source)
        }
    }

    func run(_ files: [String], width: Int, start: @escaping @Sendable (String, Int32) throws -> pid_t) async {
        forwardSignals()
        var next = files[...]
        await withTaskGroup(of: Void.self) { group in
            func launch() {
                guard let file = next.popFirst() else { return }
                group.addTask { await self.runOne(file, start: start) }
            }
            for _ in 0..<width { launch() }
            while await group.next() != nil {
                if lock.withLock({ stopping }) { continue }
                launch()
            }
        }
    }

    private func runOne(_ file: String, start: @escaping @Sendable (String, Int32) throws -> pid_t) async {
        // Blocking reads and waits run on a thread of their own, not on the cooperative pool.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                self.runBlocking(file, start: start)
                done.resume()
            }
        }
    }

    private func runBlocking(_ file: String, start: (String, Int32) throws -> pid_t) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            record(TestResult(file: file, name: "(running \(file))", status: .errored, message: "cannot create a pipe: \(String(cString: strerror(errno)))"))
            return
        }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        console.started(file)
        defer { console.ended(file) }
        let pid: pid_t
        do { pid = try start(file, fds[1]) } catch {
            close(fds[0]); close(fds[1])
            record(TestResult(file: file, name: "(running \(file))", status: .errored, message: "\(error)"))
            return
        }
        close(fds[1])
        lock.withLock { running.append(pid) }
        let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        var pending = Data()
        var seen = 0
        while case let chunk = reader.availableData, !chunk.isEmpty {
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[(newline + 1)...])
                if let result = try? JSONDecoder().decode(TestResult.self, from: line) {
                    seen += 1
                    record(result)
                } else if let started = try? JSONDecoder().decode(TestStarted.self, from: line) {
                    console.started(test: started.started, in: file)
                }
            }
        }
        let status = ChildProcess.wait(pid)
        lock.withLock { running.removeAll { $0 == pid } }
        if status != 0 && seen == 0 && !lock.withLock({ stopping }) {
            record(TestResult(file: file, name: "(running \(file))", status: .errored,
                              message: "the worker for \(file) ended with status \(status) before reporting a result (its stderr is above)"))
        }
    }

    private func record(_ result: TestResult) {
        console.record(result)
        guard exitFirst, result.status.isFailure else { return }
        let others: [pid_t] = lock.withLock {
            stopping = true
            return running
        }
        // The others clean up as after Ctrl-C (SIGTERM runs their cleanup).
        for pid in others { kill(pid, SIGTERM) }
    }
}

/// Where a run's history, report and artifacts go: the workers' histories are gathered into one,
/// and written with the report into the artifacts folder (`--artifacts DIR`, or the default
/// folder when a test failed), and to `--history`/`--report` when asked.
final class RunOutputs: Sendable {
    let artifacts: URL
    private let everyTest: Bool
    private let scratch: URL
    private let histories = Mutex<[(file: String, path: URL)]>([])

    init(artifacts: String?, list: Bool) {
        if let artifacts {
            self.artifacts = URL(fileURLWithPath: artifacts)
        } else {
            // In the state folder, under a name no cluster can have ('_'); `gc` prunes it later.
            self.artifacts = RunArtifacts.folder(StateStore.fromEnvironment()).appendingPathComponent(RunArtifacts.name())
        }
        everyTest = artifacts != nil
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-run-\(getpid())")
        if !list { try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true) }
    }

    /// A fresh file for the history of the worker that runs `file`.
    func workerHistory(for file: String) -> URL {
        histories.withLock { list in
            let path = scratch.appendingPathComponent("worker-\(list.count + 1).jsonl")
            list.append((file, path))
            return path
        }
    }

    /// Writes what the run leaves; returns one line per place written, for the console.
    func finish(_ report: TestReport, historyFile: String?, reportFile: String?) -> [String] {
        let parts = histories.withLock { $0 }.map { (file: $0.file, events: (try? HistoryFile.read($0.path)) ?? []) }
        try? FileManager.default.removeItem(at: scratch)
        let history = HistoryFile.gather(parts)
        var lines: [String] = []
        func write(_ what: String, to url: URL, _ body: () throws -> Void) {
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try body()
                lines.append("\(what): \(url.path)")
            } catch { lines.append("could not write \(what) to \(url.path): \(error.localizedDescription)") }
        }
        let html = { TestReportHTML.render(report, history: history) }
        if let historyFile { write("history", to: URL(fileURLWithPath: historyFile)) { try HistoryFile.write(history, to: URL(fileURLWithPath: historyFile)) } }
        if let reportFile { write("report", to: URL(fileURLWithPath: reportFile)) { try Data(html().utf8).write(to: URL(fileURLWithPath: reportFile)) } }
        if everyTest || !report.passed {
            let folder = artifacts
            write("artifacts", to: folder.appendingPathComponent("report.html")) {
                try HistoryFile.write(history, to: folder.appendingPathComponent("history.jsonl"))
                try Data(html().utf8).write(to: folder.appendingPathComponent("report.html"))
            }
            if let last = lines.indices.last, lines[last].hasPrefix("artifacts") { lines[last] = "artifacts: \(folder.path) (report.html, history.jsonl, a folder per test)" }
        }
        return lines
    }
}

/// Which files `ccm-lua test` runs.
enum TestFiles {
    struct Problem: Error { var message: String }

    /// Files as given; folders searched recursively for *_spec.lua and *_test.lua, sorted.
    static func find(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw Problem(message: "no such file or folder: \(path)")
            }
            guard isDirectory.boolValue else { files.append(path); continue }
            var found: [String] = []
            let enumerator = FileManager.default.enumerator(atPath: path)
            while let relative = enumerator?.nextObject() as? String {
                if relative.hasSuffix("_spec.lua") || relative.hasSuffix("_test.lua") {
                    found.append((path as NSString).appendingPathComponent(relative))
                }
            }
            if found.isEmpty { throw Problem(message: "no *_spec.lua or *_test.lua files in \(path)") }
            files += found.sorted()
        }
        return files
    }
}
