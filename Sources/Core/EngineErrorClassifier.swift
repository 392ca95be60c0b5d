/// Turns a failed `docker`/`podman` command into a `RuntimeError` of the right kind, with a summary
/// in ccm-lua's words and a hint a user can act on.
///
/// The engines report most failures only as text (Docker exits 1 for nearly everything, Podman 125),
/// so the kind is read from their stderr. The phrases matched below come from real output captured
/// on both engines (Tests/CoreTests/Fixtures/errors); the unit tests replay each of them.
public enum EngineErrorClassifier {
    /// What the failed command was acting on; it decides the wording and breaks ties (Docker's
    /// "No such object" means a container for `container inspect`, an image for `image inspect`).
    public enum Subject: Sendable, Equatable {
        case engine
        case image(String)
        case container(String)
        case start(String)
        case exec(String)
        case network(String)
        case volume(String)
        case copy(String)
    }

    public static func classify(engine: Engine, command: [String], exitCode: Int32, stderr: String,
                                stdout: String = "", subject: Subject) -> RuntimeError {
        let text = cleaned(stderr.isEmpty ? stdout : stderr)
        let lower = text.lowercased()
        func error(_ kind: RuntimeError.Kind, _ summary: String, _ hint: String?) -> RuntimeError {
            RuntimeError(kind, engine: engine, summary: summary, command: command, exitCode: exitCode,
                         stderr: text, hint: hint)
        }
        let client = engine.rawValue

        if let reason = daemonUnreachable(lower) {
            return error(.daemonNotRunning, daemonSummary(engine, reason: reason), daemonHint(engine, reason: reason))
        }

        switch subject {
        case .exec(let container):
            if lower.contains("executable file not found") || lower.contains("no such file or directory")
                && lower.contains("oci runtime") {
                return error(.execFailed, "The program to exec was not found in container \(container).",
                             "Check the program name and that the image contains it (`\(client) exec \(container) ls /usr/bin`).")
            }
            if lower.contains("is paused") {
                return error(.execFailed, "Cannot exec in container \(container): it is paused.",
                             "Unpause it first (`\(client) unpause \(container)`).")
            }
            if isNotRunning(lower) {
                return error(.execFailed, "Cannot exec in container \(container): it is not running.",
                             "Start it first, or check why it stopped with `\(client) logs \(container)` and `\(client) ps -a`.")
            }
            // Docker, when the container stops while the exec starts (captured: "... error
            // executing setns process ...").
            if lower.hasPrefix("oci runtime exec failed") {
                return error(.execFailed, "Cannot exec in container \(container): the engine could not start the program there (\(firstLine(text))).",
                             "The container may have stopped just then: check it with `\(client) ps -a` and `\(client) logs \(container)`.")
            }
        case .start(let container):
            if !isContainerMissing(lower) {
                return error(.startFailed, "Container \(container) was created but could not start.",
                             "Check that the image's entrypoint/command exists and read the engine's message above; `\(client) logs \(container)` may say more.")
            }
        default:
            break
        }

        // Docker refuses a second `rm` while the first runs (Podman makes it wait for the first
        // and succeed, measured).
        if lower.contains("removal of container") && lower.contains("already in progress") {
            let name = subjectName(subject)
            return error(.removalInProgress, "Container \(name) is being removed by another process.",
                         "Wait until it is gone (`\(client) ps -a --filter name=\(name)`), then remove what is left again.")
        }
        if isContainerMissing(lower) || (lower.contains("no such object") && isContainer(subject)) {
            let name = subjectName(subject)
            return error(.containerNotFound, "Container \(name) does not exist.",
                         "It may have been removed already; list ccm-lua's containers with `\(client) ps -a --filter label=\(Labels.cluster)`.")
        }
        if isImageMissing(lower) {
            let image = imageName(subject, text: text)
            return error(.imageNotFound, "Image \(image) is not present in \(engineName(engine)).",
                         "Pull it (`\(client) pull \(ImageReference.forPull(image, engine: engine))`) or build it; `\(client) images` lists what is there. "
                         + "For the test images run scripts/setup.")
        }
        if lower.contains("network not found") || lower.contains("unable to find network")
            || (lower.contains("network ") && lower.contains(" not found")) {
            let name = subjectName(subject)
            return error(.networkNotFound, "Network \(name) does not exist.",
                         "List ccm-lua's networks with `\(client) network ls --filter label=\(Labels.cluster)`.")
        }
        if lower.contains("already in use") || lower.contains("already exists") || lower.contains("already used") {
            let name = subjectName(subject)
            let what = describe(subject)
            return error(.nameConflict, "A \(what) named \(name) already exists.",
                         "Remove it (`\(client) \(removeCommand(subject, engine: engine)) \(name)`) or pick another name; "
                         + "it may be left over from an earlier run.")
        }
        if lower.contains("invalid argument") || lower.contains("invalid value") || lower.contains("invalid reference format")
            || lower.contains("unknown flag") || lower.contains("invalid syntax") || lower.contains("invalid size")
            || lower.contains("invalid suffix") || (exitCode == 125 && lower.contains("usage:")) {
            return error(.invalidArgument, "\(engineName(engine)) rejected a value ccm-lua passed on: \(firstLine(text))",
                         "Correct the value the message names (memory is a number with an optional b, k, m or g suffix, e.g. 512m; cpus a decimal number such as 1.5).")
        }
        // Pausing freezes the container's cgroup; rootless Podman on cgroup v1 gives it none.
        if lower.contains("rootless containers with cgroup v1") {
            return error(.commandFailed, "Rootless Podman cannot pause container \(subjectName(subject)): on a cgroup v1 host its containers have no cgroup to freeze.",
                         "Pausing needs cgroup v2 (boot with systemd.unified_cgroup_hierarchy=1) or a rootful engine; stopping, killing and network faults work here.")
        }
        if lower.contains("\"slirp4netns\" is not supported") {
            return error(.commandFailed, "Rootless Podman cannot connect this container to network \(subjectName(subject)): it was made without a network (slirp4netns), which cannot join one later.",
                         "Create the container on a user network (`podman create --network NAME`); it can then be connected to more.")
        }
        if isNotRunning(lower) || lower.contains("is not paused") || lower.contains("state improper") {
            return error(.commandFailed, "Container \(subjectName(subject)) is not in a state that allows this: \(firstLine(text))",
                         "Check its state with `\(client) ps -a`; a stopped container must be started first.")
        }
        if lower.contains("permission denied") {
            return error(.commandFailed, "\(engineName(engine)) was refused permission: \(firstLine(text))",
                         "Check the file or directory permissions named in the message, or run with the rights the engine needs.")
        }
        return error(.commandFailed, "`\(client) \(command.dropFirst().first ?? "")` failed: \(firstLine(text))",
                     "Read the engine's message above; running the command by hand shows the same output.")
    }

    /// The error for a client program that cannot be started at all.
    public static func runtimeNotFound(engine: Engine, command: [String], reason: String) -> RuntimeError {
        RuntimeError(.runtimeNotFound, engine: engine,
                     summary: "The \(engine.rawValue) client `\(command.first ?? engine.rawValue)` could not be run (\(reason)).",
                     command: command,
                     hint: installHint(engine))
    }

    public static func installHint(_ engine: Engine) -> String {
        switch engine {
        case .docker:
            return "Install Docker (Debian: `apt-get install docker.io`), or use Podman with CCM_LUA_RUNTIME=podman; "
                + "CCM_LUA_RUNTIME may also be the full path of a client."
        case .podman:
            return "Install Podman (Debian: `apt-get install podman`), or use Docker with CCM_LUA_RUNTIME=docker; "
                + "CCM_LUA_RUNTIME may also be the full path of a client."
        }
    }

    // MARK: Phrases

    /// Why the engine behind the client cannot be reached, or nil when it could.
    static func daemonUnreachable(_ lower: String) -> DaemonReason? {
        if lower.contains("permission denied") && (lower.contains("docker daemon socket") || lower.contains("podman socket")) {
            return .permissionDenied
        }
        if lower.contains("cannot connect to the docker daemon") || lower.contains("is the docker daemon running")
            || lower.contains("error during connect") || lower.contains("cannot connect to podman")
            || lower.contains("unable to connect to podman") {
            return .notRunning
        }
        return nil
    }

    enum DaemonReason { case notRunning, permissionDenied }

    static func daemonSummary(_ engine: Engine, reason: DaemonReason) -> String {
        switch (engine, reason) {
        case (.docker, .notRunning): return "The Docker daemon (dockerd) is not running or cannot be reached."
        case (.docker, .permissionDenied): return "Permission denied talking to the Docker daemon's socket."
        case (.podman, .notRunning): return "The Podman service cannot be reached."
        case (.podman, .permissionDenied): return "Permission denied talking to the Podman service's socket."
        }
    }

    static func daemonHint(_ engine: Engine, reason: DaemonReason) -> String {
        switch (engine, reason) {
        case (.docker, .notRunning):
            return "Start it with `sudo systemctl start docker` (or `dockerd &`), or point DOCKER_HOST / `docker context use` at a running one."
        case (.docker, .permissionDenied):
            return "Add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again), or use Podman with CCM_LUA_RUNTIME=podman."
        case (.podman, .notRunning):
            return "Start it with `systemctl --user start podman.socket` (or `podman system service --time=0 &`), or unset CONTAINER_HOST to use local Podman."
        case (.podman, .permissionDenied):
            return "Check the socket's owner and CONTAINER_HOST; rootless Podman needs XDG_RUNTIME_DIR set for your user."
        }
    }

    static func isContainerMissing(_ lower: String) -> Bool {
        lower.contains("no such container") || lower.contains("no container with name or id")
    }

    static func isImageMissing(_ lower: String) -> Bool {
        lower.contains("no such image") || lower.contains("image not known") || lower.contains("unable to find image")
            || lower.contains("pull access denied") || lower.contains("manifest unknown")
            || lower.contains("repository does not exist") || lower.contains("short-name")
            || (lower.contains("manifest for") && lower.contains("not found"))
    }

    static func isNotRunning(_ lower: String) -> Bool {
        lower.contains("is not running") || lower.contains("can only create exec sessions on running containers")
            || lower.contains("container state improper") && !lower.contains("not paused")
    }

    /// Podman sometimes adds lines that are not about the command ("failed to connect to syslog").
    static func cleaned(_ stderr: String) -> String {
        stderr.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("failed to connect to syslog") }
            .joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func firstLine(_ text: String) -> String {
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        for prefix in ["Error response from daemon: ", "Error: "] where line.hasPrefix(prefix) {
            return String(line.dropFirst(prefix.count))
        }
        return line
    }

    static func isContainer(_ subject: Subject) -> Bool {
        switch subject {
        case .container, .start, .exec, .copy: return true
        default: return false
        }
    }

    static func subjectName(_ subject: Subject) -> String {
        switch subject {
        case .engine: return "(engine)"
        case .image(let name), .container(let name), .start(let name), .exec(let name), .network(let name),
             .volume(let name), .copy(let name):
            return name
        }
    }

    static func describe(_ subject: Subject) -> String {
        switch subject {
        case .network: return "network"
        case .volume: return "volume"
        case .image: return "image"
        default: return "container"
        }
    }

    static func removeCommand(_ subject: Subject, engine: Engine) -> String {
        switch subject {
        case .network: return "network rm"
        case .volume: return "volume rm"
        case .image: return "rmi"
        default: return engine == .podman ? "rm -f -t 0" : "rm -f"
        }
    }

    /// The image a message is about: the subject's, or the one named in "No such image: X".
    static func imageName(_ subject: Subject, text: String) -> String {
        if case .image(let name) = subject { return name }
        for marker in ["No such image: ", "no such image: "] {
            if let range = text.range(of: marker, options: .backwards) {
                let rest = text[range.upperBound...]
                return String(rest.prefix { !$0.isWhitespace })
            }
        }
        if let range = text.range(of: ": image not known") {
            let before = text[..<range.lowerBound]
            let start = before.range(of: " ", options: .backwards)?.upperBound ?? before.startIndex
            return String(before[start...])
        }
        return "(unknown)"
    }

    static func engineName(_ engine: Engine) -> String { engine == .docker ? "Docker" : "Podman" }
}
