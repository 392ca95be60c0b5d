import Foundation

/// Container lifecycle through the API where it pays: inspect on both engines; create, start and
/// remove on Podman (docs/architecture.md has the figures). The rest goes through the client.
extension EngineAPIRuntime {
    /// Whether create, start and remove go through the API: Podman only. Through Docker's API
    /// they measured no faster than its client (dockerd does the same work either way; its
    /// client costs 12–18 ms a call).
    var lifecycleThroughAPI: Bool { engine == .podman }

    public func createContainer(_ spec: ContainerSpec) async throws -> String {
        guard lifecycleThroughAPI, let api = try await api() else { return try await cli.createContainer(spec) }
        let image = try await cli.localImageName(spec.image)
        // A value the mapping cannot express exactly goes through the client, whose message for
        // a bad value is the engine's own.
        guard let body = ContainerCreateBody(spec, image: image, engine: engine) else { return try await cli.createContainer(spec) }
        let path = "/containers/create?name=\(EngineAPICaller.segment(spec.name))"
        guard let answer = try await call("POST", path, body: EngineAPICaller.json(body), subject: .container(spec.name)) else {
            return try await cli.createContainer(spec)
        }
        guard answer.status == 201 || answer.status == 200 else {
            var error = api.error(answer, "POST", path, subject: .container(spec.name))
            if error.kind == .imageNotFound {
                // The client's words name the image as the user wrote it.
                error = EngineErrorClassifier.classify(engine: engine, command: api.command("POST", path), exitCode: 125,
                                                       stderr: "Error: \(spec.image): image not known", subject: .image(spec.image))
                error.exitCode = nil
                error.stderr = "HTTP \(answer.status): \(EngineAPICaller.message(answer.body))"
            }
            throw error
        }
        struct Created: Decodable { var Id: String }
        return try CLIOutput.decode(Created.self, from: answer.body, what: "container create").Id
    }

    public func start(_ container: ContainerRef) async throws {
        guard lifecycleThroughAPI else { return try await cli.start(container) }
        let path = "/containers/\(EngineAPICaller.segment(container))/start"
        guard let answer = try await call("POST", path, subject: .start(container)), let api = try await api() else {
            return try await cli.start(container)
        }
        // 304: it was running already, which `start` does not mind either.
        guard answer.status == 204 || answer.status == 304 || answer.status == 200 else {
            throw api.error(answer, "POST", path, subject: .start(container))
        }
    }

    /// One after another, each a request (no process start-up to save by batching).
    public func start(inOrder containers: [ContainerRef]) async throws {
        guard lifecycleThroughAPI else { return try await cli.start(inOrder: containers) }
        for container in containers { try await start(container) }
    }

    public func remove(_ container: ContainerRef) async throws {
        guard lifecycleThroughAPI else { return try await cli.remove(container) }
        // force: kill at once; v: with anonymous volumes; t=0: Podman would wait 10 s for a gentle stop.
        let path = "/containers/\(EngineAPICaller.segment(container))?force=true&v=true&t=0"
        guard let answer = try await call("DELETE", path, subject: .container(container)), let api = try await api() else {
            return try await cli.remove(container)
        }
        if answer.status == 204 || answer.status == 200 || answer.status == 404 { return }
        let error = api.error(answer, "DELETE", path, subject: .container(container))
        if error.kind == .containerNotFound { return }
        throw error
    }

    /// Concurrently, a request each.
    public func remove(all containers: [ContainerRef]) async throws {
        guard lifecycleThroughAPI else { return try await cli.remove(all: containers) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for container in containers { group.addTask { try await self.remove(container) } }
            try await group.waitForAll()
        }
    }

    public func inspect(_ container: ContainerRef) async throws -> ContainerInfo {
        let path = "/containers/\(EngineAPICaller.segment(container))/json"
        guard let answer = try await call("GET", path, subject: .container(container)), let api = try await api() else {
            return try await cli.inspect(container)
        }
        guard answer.status == 200 else { throw api.error(answer, "GET", path, subject: .container(container)) }
        return try Self.containerInfo(answer.body, engine: engine)
    }

    /// The API's inspect document is Docker's on both engines, which is what `docker inspect`
    /// prints; Podman's differs from its own client's only where noted.
    static func containerInfo(_ body: [UInt8], engine: Engine) throws -> ContainerInfo {
        var info = try CLIOutput.containerInfo(body)
        if engine == .podman {
            // Podman's compatible API leaves a created container's StartedAt at the zero time
            // ("0001-01-01T00:00:00Z"), where its client prints nothing.
            if info.startedAt.hasPrefix("0001-01-01") { info.startedAt = "" }
        }
        return info
    }
}

/// The body of `POST /containers/create`: the same container `CLIArguments.createContainer`
/// describes to the client, field for field. Nil when a value cannot be said exactly (a memory
/// size the engines' parser would read differently): that container is created by the client.
struct ContainerCreateBody: Encodable, Equatable {
    struct PortBinding: Encodable, Equatable { var HostIp: String; var HostPort: String }
    struct Host: Encodable, Equatable {
        var Binds: [String]?
        var NetworkMode: String?
        var CapAdd: [String]?
        var NanoCpus: Int64?
        var Memory: Int64?
        var PortBindings: [String: [PortBinding]]?
    }
    struct Endpoint: Encodable, Equatable { var Aliases: [String]? }
    struct Networking: Encodable, Equatable { var EndpointsConfig: [String: Endpoint] }

    var Image: String
    var Labels: [String: String]
    var Env: [String]
    var Cmd: [String]?
    var Entrypoint: [String]?
    var Hostname: String?
    var User: String?
    var WorkingDir: String?
    var ExposedPorts: [String: [String: String]]?
    var HostConfig: Host
    var NetworkingConfig: Networking?

    init?(_ spec: ContainerSpec, image: String, engine: Engine) {
        Image = image
        Labels = spec.labels
        Env = spec.env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        // As the client: the entrypoint replaces the image's, and an empty list clears it.
        Entrypoint = spec.entrypoint
        Cmd = spec.command
        if spec.entrypoint != nil && spec.command == nil { Cmd = [] }
        Hostname = spec.hostname
        User = spec.user
        WorkingDir = spec.workdir
        var host = Host()
        if !spec.mounts.isEmpty {
            host.Binds = spec.mounts.map { "\($0.hostPath):\($0.containerPath)" + ($0.readOnly ? ":ro" : "") }
        }
        // Joining another container's namespace (fault helpers): Podman's compatible API refuses
        // it beside the network's endpoint settings the mapping sends; the client does it right.
        if spec.network?.hasPrefix("container:") == true { return nil }
        host.NetworkMode = spec.network
        host.CapAdd = spec.capAdd.isEmpty ? nil : spec.capAdd
        if let cpus = spec.cpus { host.NanoCpus = Int64((cpus * 1e9).rounded()) }
        if let memory = spec.memory {
            guard let bytes = Self.bytes(memory) else { return nil }
            host.Memory = bytes
        }
        if !spec.ports.isEmpty {
            var bindings: [String: [PortBinding]] = [:], exposed: [String: [String: String]] = [:]
            for port in spec.ports {
                let key = "\(port.containerPort)/\(port.proto)"
                bindings[key, default: []].append(PortBinding(HostIp: port.hostIP, HostPort: port.hostPort.map(String.init) ?? ""))
                exposed[key] = [:]
            }
            host.PortBindings = bindings
            ExposedPorts = exposed
        }
        HostConfig = host
        if let network = spec.network {
            NetworkingConfig = Networking(EndpointsConfig: [network: Endpoint(Aliases: spec.networkAliases.isEmpty ? nil : spec.networkAliases)])
        }
    }

    /// "512m", "2g", "1024" (bytes), as the engines read `--memory`: binary units, b/k/m/g/t, an
    /// optional trailing "b". Nil for anything else.
    static func bytes(_ text: String) -> Int64? {
        var value = text.trimmingCharacters(in: .whitespaces).lowercased()
        if value.count > 1, value.hasSuffix("b"), let last = value.dropLast().last, "kmgt".contains(last) { value.removeLast() }
        let units: [Character: Int64] = ["b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40]
        var multiplier: Int64 = 1
        if let last = value.last, let unit = units[last] { multiplier = unit; value.removeLast() }
        guard !value.isEmpty, value.allSatisfy({ $0.isNumber || $0 == "." }), let number = Double(value), number > 0 else { return nil }
        return Int64(number * Double(multiplier))
    }
}
