import Foundation

/// Where an engine runs its containers, seen from this process: what decides how a script reaches
/// a node's port (`n:endpoint`).
public struct EngineLocation: Sendable, Equatable {
    /// The engine runs on another machine (DOCKER_HOST=tcp:// or ssh://, a Docker context,
    /// CONTAINER_HOST, `podman --remote`).
    public var isRemote: Bool
    /// The engine runs as an ordinary user (rootless Podman or Docker): containers sit in a network
    /// namespace of their own, and their addresses are not routable from the host.
    public var isRootless: Bool
    /// Where published ports are reached: the remote engine's host name, else the loopback address.
    public var publishedHost: String
    /// Why it is remote or rootless, for messages ("DOCKER_HOST=tcp://h:2376").
    public var detail: String?
    /// The engine's address when it is reached over plain `tcp://` without verified TLS: whoever
    /// reaches that port is root on the engine's host (see `plainTCPWarning`).
    public var plainTCPAddress: String?

    public init(isRemote: Bool = false, isRootless: Bool = false, publishedHost: String = "127.0.0.1", detail: String? = nil,
                plainTCPAddress: String? = nil) {
        self.isRemote = isRemote; self.isRootless = isRootless; self.publishedHost = publishedHost; self.detail = detail
        self.plainTCPAddress = plainTCPAddress
    }

    public static let localRootful = EngineLocation()

    /// Read from what steers the client: its environment (the process's, then the runtime's own
    /// additions win), global arguments and program name. No engine call.
    public static func of(engine: Engine, environment: [String: String], globalArguments: [String] = [],
                          executable: String? = nil, userID: uid_t = geteuid()) -> EngineLocation {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        switch engine {
        case .docker:
            if let host = value("DOCKER_HOST") {
                return docker(host: host, detail: "DOCKER_HOST=\(host)", verifiesTLS: dockerVerifiesTLS(environment: environment))
            }
            // A context named by DOCKER_CONTEXT or chosen with `docker context use`: where it points.
            if let context = DockerContext.current(environment: environment) {
                guard let host = context.host else {
                    return EngineLocation(isRemote: true, detail: "Docker context \(context.name) (not found in \(DockerContext.configFolder(environment).path))")
                }
                return docker(host: host, detail: "Docker context \(context.name) (\(host))", verifiesTLS: context.verifiesTLS)
            }
            return .localRootful
        case .podman:
            if let host = value("CONTAINER_HOST") {
                // Podman's remote client has no TLS: tcp:// is always plain.
                return EngineLocation(isRemote: true, publishedHost: hostName(in: host) ?? "127.0.0.1", detail: "CONTAINER_HOST=\(host)",
                                      plainTCPAddress: isPlainTCP(host, verifiesTLS: false) ? host : nil)
            }
            if let connection = value("CONTAINER_CONNECTION") {
                return EngineLocation(isRemote: true, detail: "CONTAINER_CONNECTION=\(connection)")
            }
            if globalArguments.contains("--remote") || globalArguments.contains("--url") || globalArguments.contains("--connection")
                || (executable ?? "").hasSuffix("podman-remote") {
                return EngineLocation(isRemote: true, detail: "podman --remote")
            }
            // Local Podman runs with the rights of whoever calls it.
            return userID == 0 ? .localRootful : EngineLocation(isRootless: true, detail: "podman runs as uid \(userID)")
        }
    }

    /// A Docker engine at `host` (DOCKER_HOST's or a context's address).
    static func docker(host: String, detail: String, verifiesTLS: Bool) -> EngineLocation {
        if host.hasPrefix("unix://") {
            // Rootless Docker listens in the user's runtime folder (/run/user/UID/docker.sock).
            let rootless = host.contains("/run/user/") || host.contains("rootless")
            return EngineLocation(isRootless: rootless, detail: rootless ? detail : nil)
        }
        return EngineLocation(isRemote: true, publishedHost: hostName(in: host) ?? "127.0.0.1", detail: detail,
                              plainTCPAddress: isPlainTCP(host, verifiesTLS: verifiesTLS) ? host : nil)
    }

    /// The one rule for the plain-TCP warning: an engine address is exposed when it is `tcp://`
    /// and the client does not verify the engine with TLS certificates. `ssh://` and `unix://`
    /// are not.
    public static func isPlainTCP(_ address: String, verifiesTLS: Bool) -> Bool {
        address.lowercased().hasPrefix("tcp://") && !verifiesTLS
    }

    /// Whether the `docker` client verifies DOCKER_HOST with TLS: DOCKER_TLS_VERIFY set, and
    /// `ca.pem`, `cert.pem` and `key.pem` in DOCKER_CERT_PATH (default: the client's config folder).
    public static func dockerVerifiesTLS(environment: [String: String]) -> Bool {
        guard let verify = environment["DOCKER_TLS_VERIFY"], !verify.isEmpty else { return false }
        let folder = environment["DOCKER_CERT_PATH"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? DockerContext.configFolder(environment)
        return ["ca.pem", "cert.pem", "key.pem"].allSatisfy {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
    }

    /// What to tell the user about an engine reached over plain TCP; nil when it is not.
    public var plainTCPWarning: String? {
        guard let address = plainTCPAddress else { return nil }
        return """
            ccm-lua: warning: the engine at \(address) is reached over plain TCP without TLS: anyone who can \
            reach that port is root on its host. Use ssh:// (DOCKER_HOST=ssh://user@host), or TLS \
            (DOCKER_TLS_VERIFY=1 and certificates in DOCKER_CERT_PATH, or a context made with \
            `docker context create --docker host=tcp://...,ca=...,cert=...,key=...`); keep plain TCP to a private network.
            """
    }

    /// A command that copies an image of this machine's engine to this remote one, for messages:
    /// `docker save IMG | docker -H tcp://h:2375 load`.
    public func copyCommand(image: String, engine: Engine) -> String {
        let client = engine.rawValue
        let detail = self.detail ?? ""
        let value = detail.split(separator: "=", maxSplits: 1).last.map(String.init) ?? ""
        let flag: String
        if detail.hasPrefix("DOCKER_HOST=") { flag = "-H \(value)" }
        else if detail.hasPrefix("Docker context "), let name = detail.dropFirst("Docker context ".count).split(separator: " ").first { flag = "--context \(name)" }
        else if detail.hasPrefix("CONTAINER_HOST=") { flag = "--url \(value)" }
        else if detail.hasPrefix("CONTAINER_CONNECTION=") { flag = "--connection \(value)" }
        else { flag = client == "docker" ? "-H HOST" : "--url URL" }
        // The local client must not be pointed at the remote engine by the environment itself.
        let local = client == "docker" ? "DOCKER_HOST= DOCKER_CONTEXT=default \(client)" : "CONTAINER_HOST= \(client)"
        return "\(local) save \(image) | \(client) \(flag) load"
    }

    /// "tcp://h:2376" and "ssh://user@h:22/run/podman.sock" -> "h"; nil for a unix socket.
    static func hostName(in url: String) -> String? {
        guard let components = URLComponents(string: url), components.scheme != "unix",
              let host = components.host, !host.isEmpty else { return nil }
        return host
    }
}

/// How `n:endpoint(port)` reaches a node.
public enum EndpointRoute: String, Sendable, CaseIterable {
    /// The node's own address on the cluster network: no proxy, nothing to publish.
    case address
    /// A port the engine publishes on its host (`-p 127.0.0.1::PORT`), read back after each start.
    case published
}

/// The one rule for reaching nodes from where ccm-lua runs.
public enum NodeEndpoints {
    /// Forces a route for every cluster: "address", "published" or "auto" (the default).
    public static let variable = "CCM_LUA_ENDPOINTS"

    /// The route for a cluster: the forced one (the cluster's `endpoints =`, else `CCM_LUA_ENDPOINTS`),
    /// else the node's address where it is routable (a local rootful engine on Linux), else a
    /// published port.
    public static func route(location: EngineLocation, forced: String?) throws -> EndpointRoute {
        if let forced, !forced.isEmpty, forced != "auto" {
            guard let route = EndpointRoute(rawValue: forced) else {
                throw ClusterError(.usage, "endpoints = \"\(forced)\" is not a way to reach nodes; use \"address\", \"published\" or \"auto\"")
            }
            // A remote engine's addresses may be routed to (a VPN, the same LAN); a rootless
            // engine's live in a network namespace of its own user and never are.
            if route == .address, location.isRootless {
                throw ClusterError(.usage, "endpoints = \"address\" cannot reach nodes here: the engine is rootless (\(location.detail ?? "not root")), and its containers' addresses are not reachable from this host; use \"published\" or \"auto\"")
            }
            return route
        }
        return addressProblem(location) == nil ? .address : .published
    }

    /// Why a node's address cannot be reached from here, or nil when it can.
    public static func addressProblem(_ location: EngineLocation) -> String? {
        #if os(Linux)
        if location.isRemote { return "the engine is remote (\(location.detail ?? "another host"))" }
        if location.isRootless { return "the engine is rootless (\(location.detail ?? "not root"))" }
        return nil
        #else
        return "container addresses are not routable from the host on this system"
        #endif
    }

    /// The ports to publish for a node created on a cluster with `route`: its client ports that the
    /// plan does not publish already. On the loopback address for a local engine; on every
    /// address of a remote engine's host, as that is where this process reaches it.
    public static func publications(for plan: NodePlan, route: EndpointRoute, location: EngineLocation) -> [PortMapping] {
        guard route == .published else { return [] }
        let published = Set(plan.ports.filter { $0.proto == "tcp" }.map(\.containerPort))
        return (plan.clientPorts ?? []).filter { !published.contains($0) }.map {
            PortMapping(containerPort: $0, hostIP: location.isRemote ? "0.0.0.0" : "127.0.0.1")
        }
    }

    /// "host:port" as a URL or `tcp.connect` takes it (an IPv6 address in brackets).
    public static func join(_ host: String, _ port: Int) -> String {
        "\(bracketed(host)):\(port)"
    }

    /// An IPv6 address in brackets, as URLs write it; other hosts as they are.
    public static func bracketed(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }
}

extension Cluster {
    /// What the script or the environment forced: the cluster's `endpoints =` wins.
    nonisolated static func forcedRoute(request: ConfigValue?, environment: [String: String]) -> String? {
        if case .string(let value)? = request?["endpoints"] { return value }
        return environment[NodeEndpoints.variable]
    }

    /// The route this cluster's nodes are reached by.
    func endpointRoute(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> EndpointRoute {
        try NodeEndpoints.route(location: runtime.location, forced: Cluster.forcedRoute(request: record.request, environment: environment))
    }

    /// Ports `prepare` publishes beside the plan's own, so that `endpoint` finds them.
    func endpointPublications(_ plan: NodePlan) -> [PortMapping] {
        guard let route = try? endpointRoute() else { return [] }
        return NodeEndpoints.publications(for: plan, route: route, location: runtime.location)
    }

    /// `"host:port"` that reaches `port` of a running node from this process (`n:endpoint`). The
    /// published port is read back from the engine on every call: a restart may change it.
    public func endpoint(of node: String, port: Int) async throws -> String {
        guard (1...65535).contains(port) else { throw ClusterError(.usage, "port \(port) is not a TCP port (1-65535)", node: node) }
        let entry = try self.node(node)
        let route = try endpointRoute()
        let info = try await runtime.inspect(entry.container)
        guard info.state == .running || info.state == .paused else {
            throw ClusterError(.usage, "\(node) is \(info.state.nodeState): it has no endpoint until it is started again (n:start())", node: node)
        }
        switch route {
        case .address:
            guard let ip = info.ipAddresses[record.network] else {
                throw ClusterError(.state, "\(node) has no address on the network \(record.network)", node: node)
            }
            return NodeEndpoints.join(ip, port)
        case .published:
            let location = runtime.location
            guard let binding = info.publishedPorts.first(where: { $0.containerPort == port && $0.proto == "tcp" }) else {
                let why = NodeEndpoints.addressProblem(location).map { "its address is not reachable from here: \($0)" }
                    ?? "endpoints are forced to published ports (\(NodeEndpoints.variable) or the cluster's endpoints =)"
                throw ClusterError(.usage, """
                    \(node) does not publish port \(port), and \(why). Declare the port when creating the cluster: \
                    cluster.create{ports = {\(port)}, ...} (or client_ports in the profile's node plan)
                    """, node: node)
            }
            // A remote engine's ports, and ports published on every address, are reached where
            // the engine runs.
            let host = location.isRemote || ["0.0.0.0", "::", ""].contains(binding.hostIP) ? location.publishedHost : binding.hostIP
            return NodeEndpoints.join(host, binding.hostPort)
        }
    }
}
