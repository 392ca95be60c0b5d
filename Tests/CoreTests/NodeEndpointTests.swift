import Foundation
import Testing
import Core
import CoreTesting

/// `n:endpoint(port)`: the rule that picks the node's address or a published port, against a
/// scripted engine that is local and rootful, rootless, or remote.
@Suite struct NodeEndpointTests {
    // MARK: Where the engine runs

    @Test func theEnvironmentSaysWhereTheEngineRuns() {
        #expect(EngineLocation.of(engine: .docker, environment: [:]) == .localRootful)
        #expect(EngineLocation.of(engine: .docker, environment: ["DOCKER_HOST": "unix:///var/run/docker.sock"]) == .localRootful)
        let rootlessDocker = EngineLocation.of(engine: .docker, environment: ["DOCKER_HOST": "unix:///run/user/1000/docker.sock"])
        #expect(rootlessDocker.isRootless && !rootlessDocker.isRemote)
        let remote = EngineLocation.of(engine: .docker, environment: ["DOCKER_HOST": "tcp://build-host:2376"])
        #expect(remote.isRemote && remote.publishedHost == "build-host")
        #expect(EngineLocation.of(engine: .docker, environment: ["DOCKER_CONTEXT": "ci"]).isRemote)
        #expect(EngineLocation.of(engine: .podman, environment: [:], userID: 0) == .localRootful)
        #expect(EngineLocation.of(engine: .podman, environment: [:], userID: 1000).isRootless)
        let remotePodman = EngineLocation.of(engine: .podman, environment: ["CONTAINER_HOST": "ssh://me@vm:22/run/podman/podman.sock"], userID: 0)
        #expect(remotePodman.isRemote && remotePodman.publishedHost == "vm")
        #expect(EngineLocation.of(engine: .podman, environment: [:], globalArguments: ["--remote"], userID: 0).isRemote)
    }

    @Test func theAddressWhereRoutableElseAPublishedPortUnlessForced() throws {
        #expect(try NodeEndpoints.route(location: .localRootful, forced: nil) == .address)
        #expect(try NodeEndpoints.route(location: .localRootful, forced: "auto") == .address)
        #expect(try NodeEndpoints.route(location: .localRootful, forced: "published") == .published)
        #expect(try NodeEndpoints.route(location: EngineLocation(isRootless: true), forced: nil) == .published)
        #expect(try NodeEndpoints.route(location: EngineLocation(isRemote: true), forced: nil) == .published)
        #expect(try NodeEndpoints.route(location: EngineLocation(isRemote: true), forced: "address") == .address)
        let error = try #require(throws: ClusterError.self) { try NodeEndpoints.route(location: .localRootful, forced: "proxy") }
        #expect(error.kind == .usage && error.message.contains("\"published\""), "\(error.message)")
        #expect(NodeEndpoints.join("10.0.0.2", 2379) == "10.0.0.2:2379")
        #expect(NodeEndpoints.join("fd00::2", 2379) == "[fd00::2]:2379")
    }

    /// A rootless engine's container addresses live in a namespace only that engine's user sees:
    /// forcing them fails at once, saying why and what works, instead of an unreachable address.
    @Test func forcingAddressesOfARootlessEngineIsAUsageError() throws {
        let rootless = EngineLocation(isRootless: true, detail: "podman runs as uid 1001")
        let error = try #require(throws: ClusterError.self) { try NodeEndpoints.route(location: rootless, forced: "address") }
        #expect(error.kind == .usage, "\(error)")
        #expect(error.message.contains("the engine is rootless (podman runs as uid 1001)"), "\(error.message)")
        #expect(error.message.contains("\"published\" or \"auto\""), "\(error.message)")
        #expect(try NodeEndpoints.route(location: rootless, forced: "published") == .published)
    }

    // MARK: Against a scripted engine

    static func etcdLike(_ fake: FakeContainerRuntime, request: ConfigValue? = nil,
                         ports: [PortMapping] = []) async throws -> (Cluster, StateStore) {
        let store = StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-endpoint-\(UUID().uuidString)"))
        var plan = NodePlan(image: "img:1")
        plan.clientPorts = [2379]
        plan.ports = ports
        let spec = ClusterSpec(name: "ep", profile: "etcd", image: "img:1", nodes: [NodeSpec(name: "node1", index: 1, plan: plan)],
                               request: request)
        let cluster = try await Cluster.create(spec, runtime: fake, store: store)
        try await cluster.start()
        return (cluster, store)
    }

    @Test func aLocalRootfulEngineGivesTheNodesAddressAndPublishesNothing() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let (cluster, store) = try await Self.etcdLike(fake)
        defer { try? FileManager.default.removeItem(at: store.home) }
        let container = try await cluster.node("node1").container
        #expect(fake.container(container)?.spec.ports == [])
        let ip = try #require(try await cluster.ip(of: "node1"))
        #expect(try await cluster.endpoint(of: "node1", port: 2379) == "\(ip):2379")
        // Any port: the address reaches them all.
        #expect(try await cluster.endpoint(of: "node1", port: 9999) == "\(ip):9999")
        try await cluster.remove()
    }

    @Test func aRootlessEnginePublishesClientPortsOnLoopbackAndFollowsRestarts() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"], location: EngineLocation(isRootless: true, detail: "podman runs as uid 1000"))
        let (cluster, store) = try await Self.etcdLike(fake)
        defer { try? FileManager.default.removeItem(at: store.home) }
        let container = try await cluster.node("node1").container
        #expect(fake.container(container)?.spec.ports == [PortMapping(containerPort: 2379, hostIP: "127.0.0.1")])
        let first = try await cluster.endpoint(of: "node1", port: 2379)
        #expect(first.hasPrefix("127.0.0.1:"), "\(first)")
        try await cluster.stop(gently: false)
        let stopped = try await #require(throws: ClusterError.self) { try await cluster.endpoint(of: "node1", port: 2379) }
        #expect(stopped.message.contains("exited") && stopped.message.contains("start"), "\(stopped.message)")
        try await cluster.start()
        let second = try await cluster.endpoint(of: "node1", port: 2379)
        #expect(second.hasPrefix("127.0.0.1:") && second != first, "the port is read back after the restart: \(first) then \(second)")
        // A port nobody declared cannot be reached: the error says what to declare.
        let undeclared = try await #require(throws: ClusterError.self) { try await cluster.endpoint(of: "node1", port: 8080) }
        #expect(undeclared.kind == .usage)
        #expect(undeclared.message.contains("does not publish port 8080") && undeclared.message.contains("ports = {8080}")
                && undeclared.message.contains("rootless"), "\(undeclared.message)")
        try await cluster.remove()
    }

    @Test func aRemoteEnginePublishesOnItsHostAndIsReachedThere() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"], location: EngineLocation(isRemote: true, publishedHost: "engine-host", detail: "DOCKER_HOST=tcp://engine-host:2376"))
        // A port the spec publishes itself is not published twice.
        let (cluster, store) = try await Self.etcdLike(fake, ports: [PortMapping(hostPort: 12379, containerPort: 2379, hostIP: "0.0.0.0")])
        defer { try? FileManager.default.removeItem(at: store.home) }
        let container = try await cluster.node("node1").container
        #expect(fake.container(container)?.spec.ports.count == 1)
        #expect(try await cluster.endpoint(of: "node1", port: 2379) == "engine-host:12379")
        try await cluster.remove()
    }

    @Test func theClusterCanForceThePublishedPath() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let (cluster, store) = try await Self.etcdLike(fake, request: .map([("endpoints", .string("published"))]))
        defer { try? FileManager.default.removeItem(at: store.home) }
        let endpoint = try await cluster.endpoint(of: "node1", port: 2379)
        #expect(endpoint.hasPrefix("127.0.0.1:"), "\(endpoint)")
        let undeclared = try await #require(throws: ClusterError.self) { try await cluster.endpoint(of: "node1", port: 8080) }
        #expect(undeclared.message.contains("forced"), "\(undeclared.message)")
        try await cluster.remove()
    }

    /// The shape both engines print under NetworkSettings.Ports (unpublished ports are null).
    @Test func publishedPortsAreReadFromInspect() throws {
        let json = """
            [{"Id": "abc", "Name": "/n1", "Image": "sha256:1", "State": {"Status": "running"},
              "NetworkSettings": {"Networks": {}, "Ports": {"2380/tcp": null,
                "2379/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}], "53/udp": [{"HostIp": "0.0.0.0", "HostPort": "5353"}]}}}]
            """
        let info = try CLIOutput.containerInfo(Array(json.utf8))
        #expect(info.publishedPorts == [PublishedPort(containerPort: 53, proto: "udp", hostIP: "0.0.0.0", hostPort: 5353),
                                        PublishedPort(containerPort: 2379, hostIP: "127.0.0.1", hostPort: 32768)])
    }
}
