import Foundation

/// Pulling, building, listing and removing images. Pull and build can run for minutes, so their
/// output is handed on line by line while it comes (the terminal or a log file), not only at the end.
extension CLIContainerRuntime {
    public func pullImage(_ reference: String, progress: (@Sendable (String) -> Void)?) async throws {
        try await runReporting(arguments.pullImage(reference), subject: .image(reference), progress: progress)
        imageNames.forget(reference)
    }

    public func buildImage(_ request: ImageBuild) async throws {
        try await runReporting(arguments.buildImage(request), subject: .image(request.tag), progress: request.progress)
        imageNames.forget(request.tag)
    }

    public func listImages(labels: [String: String]) async throws -> [ImageInfo] {
        let output = try await run(arguments.listImages(labels: labels), subject: .engine)
        var seen = Set<String>()
        let ids = output.stdoutText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && seen.insert($0).inserted }
        guard !ids.isEmpty else { return [] }
        let inspected = try await run(arguments.inspectImage(ids[0]) + ids.dropFirst(), subject: .engine)
        return try CLIOutput.images(inspected.stdout)
    }

    public func removeImage(_ reference: String) async throws {
        let name = try await localImageName(reference)
        do {
            try await run(arguments.removeImage(name), subject: .image(reference))
        } catch let error as RuntimeError where error.kind == .imageNotFound {
            return
        }
        imageNames.forget(reference)
    }

    /// As `run`, with each line the command prints passed to `progress` as it comes.
    func runReporting(_ subcommand: [String], subject: EngineErrorClassifier.Subject,
                      progress: (@Sendable (String) -> Void)?) async throws {
        guard let progress else {
            try await run(subcommand, subject: subject)
            return
        }
        let argv = commandLine(subcommand)
        let started = ContinuousClock.now
        var stdout: [String] = [], stderr: [String] = []
        var code: Int32 = 0
        do {
            for try await event in ProcessRunner.stream(argv, environment: environment) {
                switch event {
                case .line(.stdout, let line): stdout.append(line); progress(line)
                case .line(.stderr, let line): stderr.append(line); progress(line)
                case .exited(let status): code = status
                }
            }
        } catch let failure as ProcessRunner.LaunchFailed {
            throw EngineErrorClassifier.runtimeNotFound(engine: engine, command: argv, reason: failure.reason)
        }
        guard code == 0 else {
            let elapsed = ContinuousClock.now - started
            let output = ProcessRunner.Output(code: code, stdout: Array(stdout.joined(separator: "\n").utf8),
                                              stderr: Array(stderr.joined(separator: "\n").utf8),
                                              duration: Double(elapsed.components.seconds))
            throw classify(output, argv: argv, subject: subject)
        }
    }
}
