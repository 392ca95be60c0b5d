/// Builds the argument lists of `docker`/`podman` commands, without the program name.
///
/// Pure functions of their input, so the unit tests can check every flag for both engines without
/// running one. Maps, labels and env are emitted in sorted key order so a command line is the same
/// on every run (and reads the same in an error message).
public struct CLIArguments: Sendable {
    public var engine: Engine

    public init(engine: Engine) { self.engine = engine }

    /// The environment variable that marks an exec'd process with a time limit, so it can be found
    /// and killed inside the container when the limit passes (killing the `docker exec` client
    /// does not end the process it started).
    public static let execMarkerVariable = "CCM_LUA_EXEC_ID"

    // MARK: Engine

    public func version() -> [String] { ["version", "--format", "json"] }
    public func swarm() -> [String] { ["info", "--format", "{{json .Swarm}}"] }

    // MARK: Images

    public func inspectImage(_ reference: String) -> [String] { ["image", "inspect", reference] }

    /// Full ids, one a line (an image with several tags may appear more than once).
    public func listImages(labels: [String: String]) -> [String] {
        ["images", "-q", "--no-trunc"] + filterFlags(labels)
    }

    public func removeImage(_ reference: String) -> [String] { ["rmi", reference] }

    public func pullImage(_ reference: String) -> [String] {
        ["pull", ImageReference.forPull(reference, engine: engine)]
    }

    public func buildImage(_ request: ImageBuild) -> [String] {
        var args = ["build", "-t", engine == .docker ? ImageReference.strippingLocalhost(request.tag) : request.tag]
        if let dockerfile = request.dockerfile { args += ["-f", dockerfile] }
        if let target = request.target { args += ["--target", target] }
        for (key, value) in request.buildArgs.sorted(by: { $0.key < $1.key }) {
            args += ["--build-arg", "\(key)=\(value)"]
        }
        for (key, value) in request.labels.sorted(by: { $0.key < $1.key }) {
            args += ["--label", "\(key)=\(value)"]
        }
        args.append(request.contextDirectory)
        return args
    }

    // MARK: Networks

    public func createNetwork(_ spec: NetworkSpec) -> [String] {
        var args = ["network", "create"]
        args += labelFlags(spec.labels)
        if let subnet = spec.subnet { args += ["--subnet", subnet] }
        if let driver = spec.driver { args += ["--driver", driver] }
        if spec.attachable { args.append("--attachable") }
        args.append(spec.name)
        return args
    }

    public func connect(network: String, container: ContainerRef, aliases: [String]) -> [String] {
        var args = ["network", "connect"]
        for alias in aliases { args += ["--alias", alias] }
        return args + [network, container]
    }

    public func disconnect(network: String, container: ContainerRef) -> [String] {
        ["network", "disconnect", network, container]
    }

    public func removeNetwork(_ name: String) -> [String] { ["network", "rm", name] }

    public func listNetworks(labels: [String: String]) -> [String] {
        ["network", "ls"] + filterFlags(labels) + ["--format", "json"]
    }

    // MARK: Volumes

    public func createVolume(_ spec: VolumeSpec) -> [String] {
        ["volume", "create"] + labelFlags(spec.labels) + [spec.name]
    }

    public func removeVolume(_ name: String) -> [String] { ["volume", "rm", name] }

    public func listVolumes(labels: [String: String]) -> [String] {
        ["volume", "ls"] + filterFlags(labels) + ["--format", "json"]
    }

    // MARK: Containers

    /// `create` never pulls (`--pull never`): a missing image is reported at once as
    /// `.imageNotFound` instead of after a registry time-out; pulling is an explicit step.
    /// `image` must already be in the engine's spelling (see `ImageReference.localCandidates`).
    public func createContainer(_ spec: ContainerSpec, image: String) -> [String] {
        var args = ["create", "--pull", "never", "--name", spec.name]
        args += labelFlags(spec.labels)
        for (key, value) in spec.env.sorted(by: { $0.key < $1.key }) { args += ["-e", "\(key)=\(value)"] }
        // The engines take one program as --entrypoint; its own arguments go before the command.
        var trailing = spec.command ?? []
        if let entrypoint = spec.entrypoint {
            args += ["--entrypoint", entrypoint.first ?? ""]
            trailing = Array(entrypoint.dropFirst()) + trailing
        }
        for mount in spec.mounts {
            args += ["-v", "\(mount.hostPath):\(mount.containerPath)" + (mount.readOnly ? ":ro" : "")]
        }
        if let network = spec.network { args += ["--network", network] }
        for alias in spec.networkAliases { args += ["--network-alias", alias] }
        if let hostname = spec.hostname { args += ["--hostname", hostname] }
        for capability in spec.capAdd { args += ["--cap-add", capability] }
        if let cpus = spec.cpus { args += ["--cpus", Self.decimal(cpus)] }
        if let memory = spec.memory { args += ["--memory", memory] }
        for port in spec.ports { args += ["-p", Self.publish(port)] }
        if let user = spec.user { args += ["--user", user] }
        if let workdir = spec.workdir { args += ["--workdir", workdir] }
        args.append(image)
        return args + trailing
    }

    public func start(_ container: ContainerRef) -> [String] { ["start", container] }
    public func start(inOrder containers: [ContainerRef]) -> [String] { ["start"] + containers }

    public func stop(_ container: ContainerRef, timeout: Double) -> [String] {
        ["stop", "-t", Self.wholeSeconds(timeout), container]
    }

    public func kill(_ container: ContainerRef, signal: String) -> [String] {
        ["kill", "-s", signal, container]
    }

    public func pause(_ container: ContainerRef) -> [String] { ["pause", container] }
    public func unpause(_ container: ContainerRef) -> [String] { ["unpause", container] }

    public func restart(_ container: ContainerRef, timeout: Double) -> [String] {
        ["restart", "-t", Self.wholeSeconds(timeout), container]
    }

    /// Podman's `rm -f` first stops the container gracefully and waits up to 10 s; `-t 0` makes it
    /// kill at once, as Docker's `rm -f` does.
    public func remove(_ container: ContainerRef) -> [String] { remove(all: [container]) }

    public func remove(all containers: [ContainerRef]) -> [String] {
        switch engine {
        case .docker: return ["rm", "-f", "-v"] + containers
        case .podman: return ["rm", "-f", "-v", "-t", "0"] + containers
        }
    }

    public func inspectContainer(_ container: ContainerRef) -> [String] { ["container", "inspect", container] }
    public func inspectContainers(_ containers: [ContainerRef]) -> [String] { ["container", "inspect"] + containers }

    public func listContainers(labels: [String: String]) -> [String] {
        ["ps", "-a", "--no-trunc"] + filterFlags(labels) + ["--format", "json"]
    }

    // MARK: Processes, files, logs

    /// `-i` only when there is input: without it the engine does not wait for stdin to close.
    /// `marker` is set as `CCM_LUA_EXEC_ID` so a timed-out process can be found and killed.
    public func exec(_ container: ContainerRef, _ request: ExecRequest, marker: String? = nil) -> [String] {
        var args = ["exec"]
        if request.stdin != nil { args.append("-i") }
        var env = request.env
        if let marker { env[Self.execMarkerVariable] = marker }
        for (key, value) in env.sorted(by: { $0.key < $1.key }) { args += ["-e", "\(key)=\(value)"] }
        if let user = request.user { args += ["-u", user] }
        if let workdir = request.workdir { args += ["-w", workdir] }
        return args + [container] + request.argv
    }

    /// Runs inside the container with a POSIX shell: kills every process whose environment holds
    /// `CCM_LUA_EXEC_ID=marker` (the timed-out command and its children, which inherit it).
    public func killMarked(_ container: ContainerRef, marker: String) -> [String] {
        let script = """
            for p in /proc/[0-9]*; do \
            if tr '\\000' '\\n' < "$p/environ" 2>/dev/null | grep -qxF "$1"; then kill -9 "${p#/proc/}" 2>/dev/null; fi; \
            done; true
            """
        return ["exec", container, "sh", "-c", script, "sh", "\(Self.execMarkerVariable)=\(marker)"]
    }

    /// The log driver and, for `k8s-file`, the host path of the log file (tab-separated).
    public func logConfig(_ container: ContainerRef) -> [String] {
        ["container", "inspect", "--format", "{{.HostConfig.LogConfig.Type}}\t{{.HostConfig.LogConfig.Path}}", container]
    }

    /// Returns when the container is not running (at once if it is not).
    public func wait(_ container: ContainerRef) -> [String] { ["wait", container] }

    public func copy(from source: String, to destination: String) -> [String] { ["cp", source, destination] }

    public func logs(_ container: ContainerRef, since: String?, follow: Bool) -> [String] {
        var args = ["logs", "--timestamps"]
        if let since { args += ["--since", since] }
        if follow { args.append("--follow") }
        return args + [container]
    }

    // MARK: Helpers

    func labelFlags(_ labels: [String: String]) -> [String] {
        labels.sorted(by: { $0.key < $1.key }).flatMap { ["--label", "\($0.key)=\($0.value)"] }
    }

    /// An empty value selects every resource that has the key, whatever its value.
    func filterFlags(_ labels: [String: String]) -> [String] {
        labels.sorted(by: { $0.key < $1.key }).flatMap {
            ["--filter", $0.value.isEmpty ? "label=\($0.key)" : "label=\($0.key)=\($0.value)"]
        }
    }

    /// `-p` value: `IP:HOSTPORT:PORT/PROTO`, or `IP::PORT/PROTO` to let the engine choose the host port.
    static func publish(_ port: PortMapping) -> String {
        "\(port.hostIP):\(port.hostPort.map(String.init) ?? ""):\(port.containerPort)/\(port.proto)"
    }

    /// The engines take stop time-outs in whole seconds; a fraction is rounded up so a grace
    /// period is never shortened.
    static func wholeSeconds(_ seconds: Double) -> String {
        String(Int(max(0, seconds).rounded(.up)))
    }

    /// `1.0` as "1", `1.5` as "1.5".
    static func decimal(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
