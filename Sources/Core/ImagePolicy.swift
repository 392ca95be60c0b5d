import Foundation

/// When an image is pulled from a registry before a cluster is created: `missing` (only when it is
/// not on this machine), `always` (every time, to get the tag's newest image) or `never` (offline
/// machines and tests: no registry is ever contacted). `CCM_LUA_PULL` sets the default; a
/// cluster's own `pull` overrides it.
public enum PullPolicy: String, Sendable, Codable, CaseIterable {
    case missing, always, never

    public static let variable = "CCM_LUA_PULL"

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> PullPolicy {
        env[variable].flatMap { PullPolicy(rawValue: $0.lowercased()) } ?? .missing
    }

    /// The policy named `text`, or a usage error listing the choices.
    public static func named(_ text: String, what: String = "pull") throws -> PullPolicy {
        guard let policy = PullPolicy(rawValue: text.lowercased()) else {
            throw ClusterError(.usage, "\(what) must be \"missing\", \"always\" or \"never\" (got \"\(text)\")")
        }
        return policy
    }
}

/// What a user sees while a cluster's image is pulled, which can take minutes: on a terminal, a
/// line naming the image and then the engine's own progress; elsewhere (CI logs, pipes) only that
/// line, so a long pull is not silence and a log is not flooded with progress bars.
public struct PullOutput: Sendable {
    public let isTerminal: Bool
    public let write: @Sendable (String) -> Void

    public init(isTerminal: Bool, write: @escaping @Sendable (String) -> Void) {
        self.isTerminal = isTerminal; self.write = write
    }

    /// Standard error, with the progress when it is a terminal.
    public static func standardError() -> PullOutput {
        PullOutput(isTerminal: isatty(STDERR_FILENO) != 0) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// Says that `image` is being pulled; returns where the engine's progress lines go (nil: nowhere).
    func pulling(_ image: String, engine: Engine, why: String) -> (@Sendable (String) -> Void)? {
        write("pulling image '\(image)' with \(engine.rawValue) (\(why))")
        return isTerminal ? write : nil
    }
}

/// Labels ccm-lua puts on images it builds, so `ccm-lua image ls|rm` can find them (and nothing else).
public enum ImageLabels {
    public static let built = "ccm-lua.built"
}

/// The image-first rule: every image a cluster needs is present (pulled when the policy allows)
/// before anything is created, and each is pinned to its id and digest.
public enum ImagePolicy {
    /// `policy` nil: `CCM_LUA_PULL`'s. `output`: what the user sees of a pull (nothing when nil).
    public static func ensure(_ images: Set<String>, policy: PullPolicy?, runtime: any ContainerRuntime,
                              output: PullOutput? = nil) async throws -> [String: ImageInfo] {
        var infos: [String: ImageInfo] = [:]
        for image in images.sorted() {
            infos[image] = try await ensure(image, policy: policy, runtime: runtime, output: output)
        }
        return infos
    }

    /// `progress` takes the engine's lines as they come; else `output` decides what is shown.
    public static func ensure(_ image: String, policy requested: PullPolicy?, runtime: any ContainerRuntime,
                              progress: (@Sendable (String) -> Void)? = nil, output: PullOutput? = nil) async throws -> ImageInfo {
        let policy = requested ?? PullPolicy.fromEnvironment()
        // Say where "never" came from, so the user knows what to change.
        let origin = requested == nil ? "\(PullPolicy.variable)=never" : "pull = \"never\""
        let engine = runtime.engine.rawValue
        // A remote engine has its own images: this machine's are not there.
        let location = runtime.location
        let here = location.isRemote ? "on the engine at \(location.detail ?? "another host")" : "on this machine"
        let advice = "build or load it first (`\(engine) images` lists what is here; `ccm-lua image build` builds one), or check the name and tag"
            + (location.isRemote ? "; an image of this machine gets there with `\(location.copyCommand(image: image, engine: runtime.engine))`" : "")
        var place = here
        if policy != .always {
            do {
                return try await runtime.inspectImage(image)
            } catch let error as RuntimeError where error.kind == .imageNotFound {
                if let hosts = runtime as? MultiHostRuntime { place = await hosts.whereMissing(image) }
            }
        }
        if policy == .never {
            throw RuntimeError(.imageNotFound, engine: runtime.engine,
                               summary: "image '\(image)' is not \(place) (pulling is off: \(origin))",
                               hint: advice)
        }
        do {
            let why = policy == .always ? "pull = \"always\"" : "not \(here)"
            try await runtime.pullImage(image, progress: progress ?? output?.pulling(image, engine: runtime.engine, why: why))
            return try await runtime.inspectImage(image)
        } catch var error as RuntimeError {
            error.kind = .imageNotFound
            error.summary = policy == .always
                ? "image '\(image)' could not be pulled (pull = \"always\")"
                : "image '\(image)' is not \(here) and could not be pulled"
            error.hint = advice
            throw error
        }
    }
}

extension ContainerRuntime {
    /// Runtimes that cannot report progress pull quietly.
    public func pullImage(_ reference: String, progress: (@Sendable (String) -> Void)?) async throws {
        try await pullImage(reference)
    }
}

/// Where builds are named and logged.
public enum ImageBuilds {
    /// `ccm-lua-build/<context folder>:latest` when the user names no tag.
    public static func defaultTag(context: URL) -> String {
        let stem = context.standardizedFileURL.lastPathComponent.lowercased()
            .map { ($0.isLetter && $0.isASCII) || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" }
        let name = String(stem).trimmingCharacters(in: CharacterSet(charactersIn: "-_."))
        return "ccm-lua-build/\(name.isEmpty ? "image" : name):latest"
    }

    /// `<state>/images/build-<tag>-<time>.log`: a build's whole output, kept for when it fails
    /// where nobody watched.
    public static func logFile(store: StateStore, tag: String, now: Date = Date()) throws -> URL {
        let folder = store.home.appendingPathComponent("images", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let slug = String(tag.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
        let stamp = Int(now.timeIntervalSince1970 * 1000)
        return folder.appendingPathComponent("build-\(slug)-\(stamp).log")
    }
}

/// Where pull and build progress goes: the terminal when stderr is one, and a log file.
public enum ImageOutput {
    /// Writes each line to stderr when stderr is a terminal; nil otherwise.
    public static func terminal() -> (@Sendable (String) -> Void)? {
        guard isatty(STDERR_FILENO) != 0 else { return nil }
        return { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// Appends each line to `file` (created now) and hands it to `terminal` too; `close` ends the file.
    public static func teeing(to file: URL, terminal: (@Sendable (String) -> Void)?)
        -> (progress: @Sendable (String) -> Void, close: @Sendable () -> Void) {
        FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = FileHandle(forWritingAtPath: file.path)
        return ({ line in
            handle?.write(Data((line + "\n").utf8))
            terminal?(line)
        }, { try? handle?.close() })
    }
}
