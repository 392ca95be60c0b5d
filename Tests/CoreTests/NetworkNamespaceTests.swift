import Core
import Foundation
import Testing

/// Which way fault rules get into a node's namespace, for root and for an ordinary user.
@Suite struct NetworkNamespaceTests {
    /// A PATH holding stand-ins for nsenter, iptables and tc, so the answer does not depend on
    /// what this machine has installed.
    static func withTools(_ body: ([String: String]) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-nstools-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for tool in ["nsenter", "iptables", "tc"] {
            let path = dir.appendingPathComponent(tool).path
            _ = FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        }
        try body(["PATH": dir.path])
    }

    @Test func rootEntersWithNsenterDirectly() throws {
        try Self.withTools { env in
            #expect(try NetworkNamespace.choose(engine: .docker, environment: env, userID: 0) == .nsenter)
            let podman = try NetworkNamespace(runtime: CLIContainerRuntime(engine: .podman), cluster: "c", environment: env, userID: 0)
            #expect(podman.mechanism == .nsenter)
            #expect(podman.entry.isEmpty)
        }
    }

    /// Rootless Podman's user namespace owns its containers' namespaces: host nsenter gets
    /// "Operation not permitted" there, `podman unshare nsenter ...` gets in (0.25 s measured,
    /// against 1.3 s for a helper container).
    @Test func rootlessPodmanEntersThroughPodmanUnshare() throws {
        try Self.withTools { env in
            #expect(try NetworkNamespace.choose(engine: .podman, environment: env, userID: 1001) == .nsenter)
            #expect(NetworkNamespace.nsenterProblem(engine: .podman, environment: env, userID: 1001) == nil)
            let runtime = CLIContainerRuntime(engine: .podman, executable: "/opt/bin/podman", environment: ["CONTAINERS_CONF": "/x.conf"],
                                              globalArguments: ["--log-level", "error"])
            let namespace = try NetworkNamespace(runtime: runtime, cluster: "c", environment: env, userID: 1001)
            #expect(namespace.mechanism == .nsenter)
            #expect(namespace.entry == ["/opt/bin/podman", "--log-level", "error", "unshare"])
            #expect(namespace.entryEnvironment == ["CONTAINERS_CONF": "/x.conf"])
        }
    }

    @Test func anOrdinaryUserOfDockerOrARemotePodmanUsesTheHelperContainer() throws {
        try Self.withTools { env in
            #expect(try NetworkNamespace.choose(engine: .docker, environment: env, userID: 1001) == .container)
            #expect(NetworkNamespace.nsenterProblem(engine: .docker, environment: env, userID: 1001)?.contains("root") == true)
            var remote = env
            remote["CONTAINER_HOST"] = "ssh://h/run/podman.sock"
            #expect(try NetworkNamespace.choose(engine: .podman, environment: remote, userID: 1001) == .container)
            let forced = try NetworkNamespace(runtime: CLIContainerRuntime(engine: .podman), cluster: "c",
                                              environment: env.merging([NetworkNamespace.mechanismVariable: "container"]) { $1 }, userID: 1001)
            #expect(forced.mechanism == .container && forced.entry.isEmpty)
        }
    }
}
