import Foundation

/// Chooses the container engine: `CCM_LUA_RUNTIME`, else `CCM_CONTAINER_RUNTIME` (the variable
/// scylla-ccm reads, so existing CI settings carry over), else the first of `docker` and `podman`
/// whose engine answers. A variable holds `docker`, `podman`, or the path of either client.
///
/// An engine named by a variable is used or reported, never silently replaced by another: a
/// script that asked for Podman must not quietly run on Docker.
public struct EngineDiscovery: Sendable {
    public static let runtimeVariable = "CCM_LUA_RUNTIME"
    public static let scyllaCCMVariable = "CCM_CONTAINER_RUNTIME"

    /// Where a candidate engine came from.
    public enum Source: String, Sendable, Codable {
        case ccmLuaRuntime = "CCM_LUA_RUNTIME"
        case containerRuntime = "CCM_CONTAINER_RUNTIME"
        case search = "PATH"
    }

    public struct Candidate: Sendable, Equatable, Codable {
        public var engine: Engine
        /// As given: `docker`, or a path.
        public var executable: String
        public var source: Source
        public init(engine: Engine, executable: String, source: Source) {
            self.engine = engine; self.executable = executable; self.source = source
        }
    }

    public var environment: [String: String]
    /// Builds the runtime for a candidate; tests substitute their own.
    public var makeRuntime: @Sendable (Candidate, [String: String]) -> any ContainerRuntime

    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                makeRuntime: (@Sendable (Candidate, [String: String]) -> any ContainerRuntime)? = nil) {
        self.environment = environment
        self.makeRuntime = makeRuntime ?? { candidate, environment in
            let cli = CLIContainerRuntime(engine: candidate.engine, executable: candidate.executable,
                                          environment: Self.engineVariables(environment))
            // An invalid CCM_LUA_ENGINE_API is reported by `discover()`; here it means the client.
            return (try? EngineAPIRuntime.choose(cli: cli, environment: environment)) ?? cli
        }
    }

    /// The client for a cluster's recorded engine, without probing: the one CCM_LUA_RUNTIME (or
    /// CCM_CONTAINER_RUNTIME) names when it names this engine (a path such as
    /// /opt/bin/podman-remote), else `docker`/`podman` on PATH. A cluster stays on the engine it
    /// was created on, whatever the variables say now.
    public static func runtime(for engine: Engine,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> any ContainerRuntime {
        let discovery = EngineDiscovery(environment: environment)
        let chosen = (try? discovery.candidates())?.first { $0.engine == engine }
        return discovery.makeRuntime(chosen ?? Candidate(engine: engine, executable: engine.rawValue, source: .search), environment)
    }

    /// The variables that steer the clients (DOCKER_HOST, CONTAINER_HOST, ...) where `environment`
    /// differs from this process's: the runtime passes them on; everything else is inherited.
    static func engineVariables(_ environment: [String: String]) -> [String: String] {
        let own = ProcessInfo.processInfo.environment
        return environment.filter { key, value in
            (key.hasPrefix("DOCKER_") || key.hasPrefix("CONTAINER")) && own[key] != value
        }
    }

    /// The engines to try, in order. With a variable set, only the engine it names.
    public func candidates() throws -> [Candidate] {
        for source in [Source.ccmLuaRuntime, .containerRuntime] {
            guard let value = environment[source.rawValue]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { continue }
            guard let engine = Self.engine(named: value) else {
                throw RuntimeError(.invalidArgument, engine: nil,
                                   summary: "\(source.rawValue)=\(value) names neither docker nor podman.",
                                   hint: "Set \(source.rawValue) to docker, podman, or the path of one of their clients (e.g. /usr/bin/podman).")
            }
            return [Candidate(engine: engine, executable: value, source: source)]
        }
        return Engine.allCases.map { Candidate(engine: $0, executable: $0.rawValue, source: .search) }
    }

    /// `docker`, `podman`, or a path whose file name says which (`/opt/bin/podman-remote`).
    public static func engine(named value: String) -> Engine? {
        let name = (value as NSString).lastPathComponent.lowercased()
        if name.hasPrefix("podman") { return .podman }
        if name.hasPrefix("docker") { return .docker }
        return nil
    }

    /// The runtime to use, or an error carrying the doctor report (what was tried, why each failed).
    public func discover() async throws -> any ContainerRuntime {
        let candidates = try candidates()
        let apiMode = try EngineAPIMode.from(environment)
        var attempts: [DoctorReport.Attempt] = []
        for candidate in candidates {
            let attempt = await probe(candidate)
            if attempt.ok {
                let runtime = makeRuntime(candidate, environment)
                if apiMode == .on { try await EngineAPIRuntime.requireAPI(runtime, environment: environment) }
                return runtime
            }
            attempts.append(attempt)
        }
        let report = DoctorReport(attempts: attempts, selected: nil, explicitChoice: candidates.first?.source != .search)
        let first = attempts.first?.error
        throw RuntimeError(first?.kind ?? .runtimeNotFound, engine: candidates.count == 1 ? candidates[0].engine : nil,
                           summary: "No container engine answered.\n" + report.text,
                           hint: first?.hint ?? EngineErrorClassifier.installHint(.docker))
    }

    /// Tries every candidate (and, when a variable chose one, the others too, for information) and
    /// says which one would be used.
    public func doctor() async -> DoctorReport {
        let chosen: [Candidate]
        do { chosen = try candidates() } catch {
            return DoctorReport(attempts: [], selected: nil, explicitChoice: true, configurationError: error as? RuntimeError)
        }
        var all = chosen
        for engine in Engine.allCases where !all.contains(where: { $0.engine == engine }) {
            all.append(Candidate(engine: engine, executable: engine.rawValue, source: .search))
        }
        var attempts: [DoctorReport.Attempt] = []
        for candidate in all { attempts.append(await probe(candidate)) }
        let eligible = attempts.prefix(chosen.count)
        let selected = eligible.firstIndex(where: \.ok)
        return DoctorReport(attempts: attempts, selected: selected, explicitChoice: chosen.first?.source != .search)
    }

    /// Asks one engine for its versions.
    public func probe(_ candidate: Candidate) async -> DoctorReport.Attempt {
        var attempt = DoctorReport.Attempt(candidate: candidate, path: Self.resolve(candidate.executable, path: environment["PATH"]))
        guard attempt.path != nil else {
            attempt.error = RuntimeError(.runtimeNotFound, engine: candidate.engine,
                                         summary: "`\(candidate.executable)` was not found\(candidate.executable.contains("/") ? "" : " on PATH").",
                                         hint: EngineErrorClassifier.installHint(candidate.engine))
            return attempt
        }
        let runtime = makeRuntime(candidate, environment)
        if let cli = runtime.commandLineClient {
            (attempt.clientVersion, attempt.serverVersion, attempt.error) = await cli.probeVersions()
            if attempt.ok { attempt.engineAPI = await EngineAPIRuntime.describe(runtime, environment: environment) }
            return attempt
        }
        do {
            let version = try await runtime.version()
            attempt.clientVersion = version.client
            attempt.serverVersion = version.server
        } catch let error as RuntimeError {
            attempt.error = error
        } catch {
            attempt.error = RuntimeError(.commandFailed, engine: candidate.engine, summary: "\(error)")
        }
        return attempt
    }

    /// The absolute path of an executable: itself when it contains a `/`, else the first match on `path`.
    public static func resolve(_ executable: String, path: String?) -> String? {
        let manager = FileManager.default
        if executable.contains("/") { return manager.isExecutableFile(atPath: executable) ? executable : nil }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(executable)"
            if manager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// What `ccm-lua doctor` shows: each engine tried, what answered, why the others did not and what
/// to do about it, and which engine ccm-lua will use.
public struct DoctorReport: Sendable {
    public struct Attempt: Sendable {
        public var candidate: EngineDiscovery.Candidate
        /// Where the client was found; nil when it was not.
        public var path: String?
        public var clientVersion: String?
        public var serverVersion: String?
        public var error: RuntimeError?
        /// Whether calls go through the engine's API or only its client, and why (one line).
        public var engineAPI: String?
        public var ok: Bool { error == nil && serverVersion != nil }
    }

    public var attempts: [Attempt]
    /// Index into `attempts` of the engine ccm-lua will use.
    public var selected: Int?
    /// Whether CCM_LUA_RUNTIME or CCM_CONTAINER_RUNTIME chose the engine.
    public var explicitChoice: Bool
    /// A variable holding something that is not an engine.
    public var configurationError: RuntimeError?

    public init(attempts: [Attempt], selected: Int?, explicitChoice: Bool, configurationError: RuntimeError? = nil) {
        self.attempts = attempts; self.selected = selected; self.explicitChoice = explicitChoice
        self.configurationError = configurationError
    }

    public var selectedAttempt: Attempt? { selected.map { attempts[$0] } }

    /// Where doctor runs its name-resolution check: every engine that answered, or only the
    /// chosen one when a variable chose it (the others are shown for information).
    public var enginesToCheck: [Attempt] {
        explicitChoice ? selectedAttempt.map { [$0] } ?? [] : attempts.filter(\.ok)
    }

    /// The report as a person reads it.
    public var text: String {
        var lines: [String] = []
        if let configurationError {
            lines.append("configuration: \(configurationError.summary)")
            if let hint = configurationError.hint { lines.append("  fix: \(hint)") }
        }
        for (index, attempt) in attempts.enumerated() {
            let candidate = attempt.candidate
            let origin = candidate.source == .search ? "found on PATH" : "from \(candidate.source.rawValue)"
            var head = "\(candidate.engine.rawValue): "
            if let path = attempt.path { head += "\(path) (\(origin))" } else { head += "\(candidate.executable) (\(origin))" }
            if index == selected { head += "  <- selected" }
            lines.append(head)
            if let client = attempt.clientVersion {
                lines.append("  client \(client), engine \(attempt.serverVersion ?? "not answering")")
            }
            if let error = attempt.error {
                lines.append("  problem: \(error.summary)")
                let stderr = error.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                if !stderr.isEmpty { lines.append("  engine said: \(stderr.split(separator: "\n").first ?? "")") }
                if let hint = error.hint { lines.append("  fix: \(hint)") }
            } else {
                lines.append("  ok")
            }
            if let engineAPI = attempt.engineAPI { lines.append("  \(engineAPI)") }
        }
        if let chosen = selectedAttempt {
            let why = explicitChoice ? "chosen by \(chosen.candidate.source.rawValue)" : "the first engine that answered"
            lines.append("ccm-lua will use \(chosen.candidate.engine.rawValue) (\(why)); set \(EngineDiscovery.runtimeVariable)=docker|podman to choose.")
        } else if !attempts.isEmpty {
            lines.append(explicitChoice
                ? "ccm-lua cannot use the engine you chose; fix it as shown above, or unset the variable to use any engine that answers."
                : "No container engine answered; fix one of them as shown above.")
        }
        return lines.joined(separator: "\n")
    }
}
