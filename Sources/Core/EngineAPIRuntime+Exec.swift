import Foundation
import NIOCore

/// exec through the API: create the exec, start it attached (its output framed on a connection of
/// its own, stdin sent on the same), then read its exit code.
extension EngineAPIRuntime {
    /// The body of `POST /containers/ID/exec`.
    struct ExecConfig: Codable, Equatable {
        var AttachStdin: Bool
        var AttachStdout = true
        var AttachStderr = true
        var Tty = false
        var Cmd: [String]
        var Env: [String]
        var User: String?
        var WorkingDir: String?

        /// `marker` is set as CCM_LUA_EXEC_ID, as the client runtime does, so a timed-out program can be found and killed.
        init(_ request: ExecRequest, marker: String?) {
            var env = request.env
            if let marker { env[CLIArguments.execMarkerVariable] = marker }
            AttachStdin = request.stdin != nil
            Cmd = request.argv
            Env = env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            User = request.user
            WorkingDir = request.workdir
        }
    }

    /// What `GET /exec/ID/json` says once the program ended.
    struct ExecState: Decodable {
        var Running: Bool?
        var ExitCode: Int32?
    }

    public func exec(_ container: ContainerRef, _ request: ExecRequest) async throws -> ExecResult {
        precondition(!request.argv.isEmpty, "exec needs a program to run")
        let started = ContinuousClock.now
        let marker = request.timeout.map { _ in "\(Labels.runID)-\(UInt32.random(in: .min ... .max))" }
        let deadline = request.timeout.map { NIODeadline.now() + .nanoseconds(Int64($0 * 1e9)) }
        func remaining() -> Double {
            guard let deadline else { return Defaults.engineAPICall }
            return max(0.001, Double((deadline - .now()).nanoseconds) / 1e9)
        }
        let createPath = "/containers/\(EngineAPICaller.segment(container))/exec"
        guard let created = try await call("POST", createPath, body: EngineAPICaller.json(ExecConfig(request, marker: marker)),
                                           timeout: remaining(), subject: .exec(container)),
              let caller = try await api() else {
            return try await cli.exec(container, request)
        }
        guard created.status == 201 || created.status == 200 else {
            throw caller.error(created, "POST", createPath, subject: .exec(container))
        }
        struct Created: Decodable { var Id: String }
        guard let id = try? JSONDecoder().decode(Created.self, from: Data(created.body)).Id else {
            throw RuntimeError(.commandFailed, engine: engine, summary: "\(engine.rawValue)'s API answered an exec without its id.",
                               command: caller.command("POST", createPath), stderr: String(decoding: created.body, as: UTF8.self),
                               hint: "Set \(EngineAPIMode.variable)=off to go through the \(engine.rawValue) client instead.")
        }

        let startPath = "/exec/\(id)/start"
        let exchange = EngineUpgradedExchange(socketPath: socket.path, method: "POST", path: EngineAPICaller.versioned(startPath),
                                              body: Array(#"{"Detach":false,"Tty":false}"#.utf8), stdin: request.stdin, deadline: deadline)
        let answer: (head: EngineUpgradedExchange.Head, body: [UInt8])
        do {
            answer = try await exchange.run()
        } catch EngineUpgradedExchange.Failure.timedOut {
            let killed = if let marker { await cli.killMarked(container, marker: marker) } else { false }
            throw Self.timedOut(engine: engine, container: container, request: request, killed: killed,
                                command: caller.command("POST", startPath))
        } catch EngineUpgradedExchange.Failure.tooLarge(let limit) {
            if let marker { _ = await cli.killMarked(container, marker: marker) }
            throw RuntimeError(.execFailed, engine: engine,
                               summary: "`\(request.argv.joined(separator: " "))` in container \(container) printed more than \(limit / 1_048_576) MiB and was stopped.",
                               command: caller.command("POST", startPath), hint: "Redirect its output to a file inside the container and copy that out with copyOut.")
        } catch let failure as EngineUpgradedExchange.Failure {
            throw RuntimeError(.execFailed, engine: engine,
                               summary: "The exec of `\(request.argv.joined(separator: " "))` in container \(container) lost its connection to \(engine.rawValue)'s API (\(failure)).",
                               command: caller.command("POST", startPath),
                               hint: "Check the engine with `ccm-lua doctor`; set \(EngineAPIMode.variable)=off to go through the \(engine.rawValue) client instead.")
        }
        guard answer.head.status == 101 || answer.head.status == 200 else {
            throw caller.error(EngineAPICaller.Answer(status: answer.head.status, body: answer.body), "POST", startPath, subject: .exec(container))
        }
        var frames = EngineStreamFrames()
        do {
            try frames.feed(answer.body)
            try frames.finish()
        } catch {
            throw RuntimeError(.execFailed, engine: engine, summary: "Could not read the output of `\(request.argv.joined(separator: " "))` in container \(container): \(error).",
                               command: caller.command("POST", startPath),
                               hint: "Set \(EngineAPIMode.variable)=off to go through the \(engine.rawValue) client instead.")
        }
        let code = try await exitCode(id, caller: caller, container: container)
        let stdout = String(decoding: frames.stdout, as: UTF8.self), stderr = String(decoding: frames.stderr, as: UTF8.self)
        // Same rule as the client: a program's non-zero exit is a result; the engine failing to run it is an error.
        if EngineErrorClassifier.isEngineExecFailure(engine: engine, exitCode: code, stderr: stderr, stdout: stdout) {
            var error = EngineErrorClassifier.classify(engine: engine, command: caller.command("POST", startPath), exitCode: code,
                                                       stderr: stderr, stdout: stdout, subject: .exec(container))
            error.command = cli.commandLine(cli.arguments.exec(container, request))
            throw error
        }
        let took = ContinuousClock.now - started
        return ExecResult(code: code, stdout: stdout, stderr: stderr,
                          duration: Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
    }

    /// The exit code, once the engine has recorded it. It does so before it closes the output
    /// stream on both engines (measured), so the first answer is nearly always final; a few more
    /// looks cover an engine that records it a moment later.
    private func exitCode(_ id: String, caller: EngineAPICaller, container: ContainerRef) async throws -> Int32 {
        let path = "/exec/\(id)/json"
        for attempt in 0..<50 {
            let answer: EngineAPICaller.Answer
            do { answer = try await caller.send("GET", path, body: nil, timeout: Defaults.engineAPICall) } catch let failure as HTTPClient.Failure {
                throw caller.transportError(failure, method: "GET", path: path)
            }
            guard answer.status == 200 else { throw caller.error(answer, "GET", path, subject: .exec(container)) }
            let state = try CLIOutput.decode(ExecState.self, from: answer.body, what: "exec inspect")
            if state.Running != true, let code = state.ExitCode { return code }
            try await Task.sleep(for: .milliseconds(attempt < 10 ? 2 : 20))
        }
        throw RuntimeError(.execFailed, engine: engine, summary: "The exec in container \(container) ended its output but \(engine.rawValue) recorded no exit code.",
                           command: caller.command("GET", path), hint: "Set \(EngineAPIMode.variable)=off to go through the \(engine.rawValue) client instead.")
    }

    /// The client runtime's words for a timed-out exec.
    static func timedOut(engine: Engine, container: ContainerRef, request: ExecRequest, killed: Bool, command: [String]) -> RuntimeError {
        let seconds = request.timeout.map { "\($0)" } ?? "?"
        let shown = "`\(request.argv.joined(separator: " "))` in container \(container) ran longer than \(seconds) s"
        return RuntimeError(.timeout, engine: engine,
                            summary: killed ? "\(shown) and was killed."
                                : "\(shown); it could not be killed and may still run (the container has no shell to kill it from inside, and its engine is not on this machine).",
                            command: command,
                            hint: killed ? "Give it a longer timeout if it is just slow, or check why it hangs (`\(engine.rawValue) exec \(container) ps aux`)."
                                : "Restart the node to end it, and bound the command itself (e.g. etcdctl's --command-timeout).")
    }
}
