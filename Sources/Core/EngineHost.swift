import Foundation
import Synchronization

/// One engine of a cluster that spans several: the name a script gives it (`h1`) and where the
/// engine is, written as `DOCKER_HOST` takes it (`unix://`, `tcp://`, `ssh://`) or as the name of
/// a Docker context (`docker context ls`). Hosts are Docker engines: Swarm joins them.
public struct EngineHost: Sendable, Codable, Equatable {
    public var name: String
    public var address: String

    public static let schemes = ["unix://", "tcp://", "ssh://"]

    /// Checks both parts; the error says what to write instead.
    public init(name: String, address: String) throws {
        let address = address.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" }) else {
            throw ClusterError(.usage, "host name '\(name)' must be letters, digits, '-' or '_' (e.g. hosts = {h1 = \"unix:///var/run/docker.sock\"})")
        }
        if address.contains("://") {
            guard let scheme = Self.schemes.first(where: address.hasPrefix), address.count > scheme.count else {
                throw ClusterError(.usage, "host \(name): '\(address)' is not an engine address; write unix:///var/run/docker.sock, tcp://HOST:2376, ssh://USER@HOST or the name of a Docker context (`docker context ls`)")
            }
        } else {
            // Docker's own rule for context names.
            let ok = address.first.map { $0.isLetter || $0.isNumber } == true
                && address.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "_.+-".unicodeScalars.contains($0) }
            guard ok else {
                throw ClusterError(.usage, "host \(name): '\(address)' is neither an engine address nor a Docker context name; write unix:///var/run/docker.sock, tcp://HOST:2376, ssh://USER@HOST or a name from `docker context ls`")
            }
        }
        self.name = name
        self.address = address
    }

    /// A Docker context name rather than an address.
    public var isContext: Bool { !address.contains("://") }

    /// The client for this engine: the Docker client with DOCKER_HOST (or DOCKER_CONTEXT) set to
    /// this host, whatever the process's own variables say. Its `location` is remote for
    /// `tcp://`, `ssh://` and contexts.
    public func runtime(executable: String? = nil) -> CLIContainerRuntime {
        // An empty DOCKER_HOST counts as unset for the client, so a context is not overridden.
        let environment = isContext ? ["DOCKER_HOST": "", "DOCKER_CONTEXT": address]
                                    : ["DOCKER_HOST": address, "DOCKER_CONTEXT": ""]
        return CLIContainerRuntime(engine: .docker, executable: executable, environment: environment)
    }

    /// The address in a command line a user can paste (`docker -H ADDRESS ...` or `--context`).
    public var dockerFlag: String { isContext ? "--context \(address)" : "-H \(address)" }

    /// Plain `tcp://` without TLS gives root on the engine's machine to anyone who can reach the
    /// port. Nil when TLS is configured (`DOCKER_TLS_VERIFY`) or the address is not plain TCP.
    public static func plainTCPWarning(_ address: String,
                                       environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard address.hasPrefix("tcp://") else { return nil }
        if let verify = environment["DOCKER_TLS_VERIFY"], !verify.isEmpty { return nil }
        return "ccm-lua: warning: the engine at \(address) is reached over plain TCP without TLS, which gives root to anyone on that network; use TLS (DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH) or ssh://"
    }

    private static let warned = Mutex(false)

    /// Prints the plain-TCP warning for the first such host of this process only.
    public static func warnIfPlainTCP(_ hosts: [EngineHost]) {
        guard let text = hosts.lazy.compactMap({ plainTCPWarning($0.address) }).first else { return }
        let first = warned.withLock { already in defer { already = true }; return !already }
        if first { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }
}

/// What an engine says of its Swarm membership (`docker info`'s Swarm part).
public struct SwarmMembership: Sendable, Equatable {
    /// "inactive", "pending", "active", "error" or "locked".
    public var state: String
    public var nodeID: String
    /// The address other members reach this one at (empty when not in a swarm).
    public var nodeAddress: String
    public var isManager: Bool
    /// The managers this engine knows: node ids and `address:port` to join at.
    public var managers: [(id: String, address: String)]

    public init(state: String, nodeID: String = "", nodeAddress: String = "", isManager: Bool = false,
                managers: [(id: String, address: String)] = []) {
        self.state = state; self.nodeID = nodeID; self.nodeAddress = nodeAddress; self.isManager = isManager
        self.managers = managers
    }

    public static let notMember = SwarmMembership(state: "inactive")
    public var isActive: Bool { state == "active" }

    public static func == (a: SwarmMembership, b: SwarmMembership) -> Bool {
        a.state == b.state && a.nodeID == b.nodeID && a.nodeAddress == b.nodeAddress && a.isManager == b.isManager
            && a.managers.map(\.id) == b.managers.map(\.id) && a.managers.map(\.address) == b.managers.map(\.address)
    }
}
