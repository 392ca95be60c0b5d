import Foundation
import Testing
import Core
import CoreTesting

/// Clusters across several engines, with one fake engine per host: where each node goes, that
/// every call reaches the node's own engine, the overlay network on the manager, the swarm check
/// and its advice, and that removal, attach, gc and the reaper reach every host.
@Suite struct MultiHostTests {
    static let manager = SwarmMembership(state: "active", nodeID: "m1", nodeAddress: "10.9.0.1", isManager: true,
                                         managers: [("m1", "10.9.0.1:2377")])
    static let worker = SwarmMembership(state: "active", nodeID: "w1", nodeAddress: "10.9.0.2", managers: [("m1", "10.9.0.1:2377")])

    /// h1 (manager) and h2 (worker), each a fake engine with the image.
    static func engines() throws -> (hosts: [EngineHost], fakes: [String: FakeContainerRuntime]) {
        let h1 = FakeContainerRuntime(images: ["img:1"]), h2 = FakeContainerRuntime(images: ["img:1"])
        h1.setSwarm(manager)
        h2.setSwarm(worker)
        h2.join(swarmOf: h1)
        let hosts = [try EngineHost(name: "h1", address: "unix:///var/run/docker.sock"), try EngineHost(name: "h2", address: "tcp://10.9.0.2:2375")]
        return (hosts, ["h1": h1, "h2": h2])
    }

    static func store() -> StateStore {
        StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-hosts-\(UUID().uuidString)"))
    }

    static func spec(_ name: String, hosts: [EngineHost], nodes: [(String, String?)], placement: [String: String]? = nil) -> ClusterSpec {
        var spec = ClusterSpec(name: name, profile: "generic", image: "img:1",
                               nodes: nodes.enumerated().map { NodeSpec(name: $1.0, index: $0 + 1, dc: $1.1, plan: NodePlan(image: "img:1")) })
        spec.hosts = hosts
        spec.placement = placement
        return spec
    }

    // MARK: Placement

    @Test func withoutPlacementNodesGoRoundRobinInTheOrderGiven() throws {
        let placed = try Placement.place([("node1", nil), ("node2", nil), ("node3", nil)], hosts: ["h1", "h2"], byDatacenter: nil)
        #expect(placed == ["node1": "h1", "node2": "h2", "node3": "h1"])
        #expect(try Placement.place([("node1", nil)], hosts: [], byDatacenter: nil).isEmpty)
    }

    @Test func datacentersGoToTheirHosts() throws {
        let nodes: [(name: String, dc: String?)] = [("node1", "dc1"), ("node2", "dc1"), ("node3", "dc2")]
        let placed = try Placement.place(nodes, hosts: ["h1", "h2"], byDatacenter: ["dc1": "h2", "dc2": "h1"])
        #expect(placed == ["node1": "h2", "node2": "h2", "node3": "h1"])
        // A node added later goes to its datacenter's host; without placement to the emptiest host.
        #expect(try Placement.host(forNewNodeIn: "dc2", hosts: ["h1", "h2"], byDatacenter: ["dc1": "h2", "dc2": "h1"], current: []) == "h1")
        #expect(try Placement.host(forNewNodeIn: nil, hosts: ["h1", "h2"], byDatacenter: nil, current: ["h1", "h2", "h1"]) == "h2")
    }

    @Test func placementErrorsSayWhatToWrite() throws {
        let nodes: [(name: String, dc: String?)] = [("node1", "dc1"), ("node2", "dc2")]
        let unknownHost = try #require(throws: ClusterError.self) {
            try Placement.place(nodes, hosts: ["h1", "h2"], byDatacenter: ["dc1": "h1", "dc2": "h9"])
        }
        #expect(unknownHost.message == "placement.dc2 = \"h9\": no host named h9 (hosts: h1, h2)")
        let missing = try #require(throws: ClusterError.self) { try Placement.place(nodes, hosts: ["h1", "h2"], byDatacenter: ["dc1": "h1"]) }
        #expect(missing.message == "placement has no host for datacenter dc2: add dc2 = \"h1\" (hosts: h1, h2)")
        let unknownDC = try #require(throws: ClusterError.self) {
            try Placement.place(nodes, hosts: ["h1"], byDatacenter: ["dc1": "h1", "dc2": "h1", "dc3": "h1"])
        }
        #expect(unknownDC.message == "placement.dc3: the cluster has no datacenter dc3 (datacenters: dc1, dc2)")
        let count = try #require(throws: ClusterError.self) { try Placement.place([("node1", nil)], hosts: ["h1"], byDatacenter: ["dc1": "h1"]) }
        #expect(count.message.contains("write nodes = {dc1 = 3}"))
        let noHosts = try #require(throws: ClusterError.self) { try Placement.place(nodes, hosts: [], byDatacenter: ["dc1": "h1"]) }
        #expect(noHosts.message.contains("placement needs hosts"))
        #expect(noHosts.kind == .usage)
    }

    // MARK: Hosts

    @Test func aHostIsAnAddressOrAContextAndItsClientSaysWhere() throws {
        let tcp = try EngineHost(name: "h2", address: "tcp://10.9.0.2:2375").runtime()
        #expect(tcp.environment["DOCKER_HOST"] == "tcp://10.9.0.2:2375")
        #expect(tcp.location.isRemote && tcp.location.publishedHost == "10.9.0.2")
        #expect(try EngineHost(name: "h3", address: "ssh://me@box").runtime().location.isRemote)
        #expect(!(try EngineHost(name: "h1", address: "unix:///var/run/docker.sock").runtime().location.isRemote))
        let context = try EngineHost(name: "h4", address: "build-box")
        #expect(context.isContext)
        #expect(context.runtime().environment == ["DOCKER_HOST": "", "DOCKER_CONTEXT": "build-box"])
        #expect(context.runtime().location.isRemote)
        let bad = try #require(throws: ClusterError.self) { try EngineHost(name: "h1", address: "http://box:2375") }
        #expect(bad.message.contains("write unix:///var/run/docker.sock, tcp://HOST:2376, ssh://USER@HOST"))
    }

    @Test func plainTCPWithoutTLSIsWarnedAbout() {
        let warning = EngineHost.plainTCPWarning("tcp://10.9.0.2:2375", environment: [:])
        #expect(warning?.contains("gives root to anyone on that network; use TLS") == true)
        #expect(EngineHost.plainTCPWarning("tcp://10.9.0.2:2376", environment: ["DOCKER_TLS_VERIFY": "1"]) == nil)
        #expect(EngineHost.plainTCPWarning("ssh://me@box", environment: [:]) == nil)
        #expect(EngineHost.plainTCPWarning("unix:///var/run/docker.sock", environment: [:]) == nil)
    }

    // MARK: The swarm check

    @Test func hostsOutsideTheManagersSwarmAreNamedWithHowToJoin() async throws {
        let (hosts, fakes) = try Self.engines()
        fakes["h2"]!.setSwarm(.notMember)
        let error = try await #require(throws: ClusterError.self) { try await MultiHostRuntime.connect(hosts) { fakes[$0.name]! } }
        #expect(error.message.contains("host h2 (tcp://10.9.0.2:2375) is not in a swarm"))
        #expect(error.message.contains("docker -H tcp://10.9.0.2:2375 swarm join --token $(docker -H unix:///var/run/docker.sock swarm join-token -q worker) 10.9.0.1:2377"))
        fakes["h2"]!.setSwarm(SwarmMembership(state: "active", nodeID: "x", isManager: true, managers: [("x", "10.8.0.1:2377")]))
        let other = try await #require(throws: ClusterError.self) { try await MultiHostRuntime.connect(hosts) { fakes[$0.name]! } }
        #expect(other.message.contains("is in another swarm") && other.message.contains("swarm leave"))
        fakes["h1"]!.setSwarm(.notMember)
        fakes["h2"]!.setSwarm(.notMember)
        let none = try await #require(throws: ClusterError.self) { try await MultiHostRuntime.connect(hosts) { fakes[$0.name]! } }
        #expect(none.message.contains("is a Docker Swarm manager") && none.message.contains("swarm init"))
        fakes["h2"]!.setSwarm(Self.worker)
        fakes["h1"]!.setSwarm(Self.manager)
        #expect(try await MultiHostRuntime.connect(hosts) { fakes[$0.name]! }.manager == "h1")
    }

    // MARK: A cluster across hosts

    @Test func eachNodeIsDrivenOnItsOwnHostAndTheNetworkIsAnOverlayOnTheManager() async throws {
        let (hosts, fakes) = try Self.engines()
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        let runtime = try await MultiHostRuntime.connect(hosts) { fakes[$0.name]! }
        let spec = Self.spec("span", hosts: hosts, nodes: [("node1", "dc1"), ("node2", "dc1"), ("node3", "dc2")],
                             placement: ["dc1": "h2", "dc2": "h1"])
        let cluster = try await Cluster.create(spec, runtime: runtime, store: store)
        #expect(fakes["h2"]!.containerNames == ["span-node1", "span-node2"])
        #expect(fakes["h1"]!.containerNames == ["span-node3"])
        let network = try #require(fakes["h1"]!.network("ccm-lua-span"))
        #expect(network.driver == "overlay" && network.attachable)
        #expect(network.labels[Labels.cluster] == "span")
        #expect(fakes["h2"]!.calls("createNetwork").isEmpty)
        // The record keeps each node's host, so another process drives the same engines.
        let record = try store.load("span")
        #expect(record.nodes.map(\.host) == ["h2", "h2", "h1"])
        #expect(record.hosts == hosts && record.manager == "h1")

        try await cluster.start(wait: false)
        fakes["h2"]!.scriptExec(["hostname"], in: "span-node2", .result(code: 0, stdout: "on h2\n"))
        #expect(try await cluster.exec(node: "node2", ExecRequest(argv: ["hostname"])).stdout == "on h2\n")
        #expect(fakes["h1"]!.calls("exec").isEmpty)
        try await cluster.kill(node: "node3")
        #expect(fakes["h1"]!.container("span-node3")?.state == .exited)
        #expect(fakes["h2"]!.calls("kill").isEmpty)

        // Attached from the record alone: the same routes.
        let attached = try await Cluster.attach("span", store: store, runtime: { _ in FakeContainerRuntime() }, host: { fakes[$0.name]! })
        fakes["h2"]!.scriptExec(["hostname"], in: "span-node1", .result(code: 0, stdout: "node1 on h2\n"))
        #expect(try await attached.exec(node: "node1", ExecRequest(argv: ["hostname"])).stdout == "node1 on h2\n")
        let states = try await attached.status().map(\.nodeState)
        #expect(states == ["running", "running", "exited"])

        try await cluster.remove()
        #expect(fakes["h1"]!.containerNames.isEmpty && fakes["h2"]!.containerNames.isEmpty)
        #expect(fakes["h1"]!.networkNames.isEmpty)
        #expect(!store.exists("span"))
    }

    /// A host on another machine cannot take a bind mount of this machine's node folder (its
    /// engine would make that path over there): every node's folders are volumes on its own
    /// engine, and a helper named after a node goes to that node's engine.
    @Test func acrossARemoteHostNodeFoldersAreVolumesOnEachNodesEngine() async throws {
        let h1 = FakeContainerRuntime(images: ["img:1"])
        let h2 = FakeContainerRuntime(images: ["img:1"], location: EngineLocation(isRemote: true, publishedHost: "10.9.0.2"))
        h1.setSwarm(Self.manager); h2.setSwarm(Self.worker); h2.join(swarmOf: h1)
        let hosts = [try EngineHost(name: "h1", address: "unix:///var/run/docker.sock"), try EngineHost(name: "h2", address: "tcp://10.9.0.2:2375")]
        let fakes = ["h1": h1, "h2": h2]
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        let runtime = try await MultiHostRuntime.connect(hosts) { fakes[$0.name]! }
        #expect(runtime.spansRemoteEngines)
        var spec = Self.spec("vols", hosts: hosts, nodes: [("node1", nil), ("node2", nil)])
        for i in spec.nodes.indices { spec.nodes[i].plan.directories = [NodeDirectory(path: "data", containerPath: "/data")] }
        let cluster = try await Cluster.create(spec, runtime: runtime, store: store)
        // node2 is on h2 (round-robin): its data is a volume there, not this machine's folder.
        let node2 = try #require(h2.container("vols-node2"))
        #expect(node2.spec.mounts.map(\.hostPath) == [NodeFolders.volumeName(cluster: "vols", node: "node2", directory: "data")])
        #expect(h2.volumeNames == [NodeFolders.volumeName(cluster: "vols", node: "node2", directory: "data")])
        #expect(h1.volumeNames == [NodeFolders.volumeName(cluster: "vols", node: "node1", directory: "data")])
        // A helper named after node2's container goes to node2's engine.
        _ = try await runtime.createContainer(ContainerSpec(name: "vols-node2-chown-run1", image: "img:1"))
        #expect(h2.containerNames.contains("vols-node2-chown-run1") && !h1.containerNames.contains("vols-node2-chown-run1"))
        try await runtime.remove("vols-node2-chown-run1")
        try await cluster.remove()
        #expect(h1.volumeNames.isEmpty && h2.volumeNames.isEmpty, "\(h1.volumeNames) \(h2.volumeNames)")
    }

    /// One host (a remote engine, say) needs no swarm: its network is an ordinary one.
    @Test func aSingleHostNeedsNoSwarm() async throws {
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        let remote = FakeContainerRuntime(images: ["img:1"])
        let host = try EngineHost(name: "far", address: "ssh://me@box")
        let runtime = try await MultiHostRuntime.connect([host]) { _ in remote }
        let cluster = try await Cluster.create(Self.spec("single", hosts: [host], nodes: [("node1", nil)]), runtime: runtime, store: store)
        #expect(remote.network("ccm-lua-single")?.driver == nil)
        #expect(remote.containerNames == ["single-node1"])
        #expect(remote.calls("swarm").isEmpty)
        try await cluster.remove()
        #expect(remote.networkNames.isEmpty)
    }

    @Test func anImageMissingOnOneHostIsNamedWithThatHost() async throws {
        let (hosts, fakes) = try Self.engines()
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        let h2 = FakeContainerRuntime(images: [])
        h2.setSwarm(Self.worker)
        h2.join(swarmOf: fakes["h1"]!)
        let runtime = try await MultiHostRuntime.connect(hosts) { $0.name == "h2" ? h2 : fakes["h1"]! }
        var spec = Self.spec("noimg", hosts: hosts, nodes: [("node1", nil), ("node2", nil)])
        spec.pull = .never
        let error = try await #require(throws: (any Error).self) { try await Cluster.create(spec, runtime: runtime, store: store) }
        #expect("\(error)".contains("image 'img:1' is not on host h2 (tcp://10.9.0.2:2375)"), "\(error)")
        #expect(fakes["h1"]!.containerNames.isEmpty && fakes["h1"]!.networkNames.isEmpty)
    }

    @Test func addedNodesFollowThePlacement() async throws {
        let (hosts, fakes) = try Self.engines()
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        let runtime = try await MultiHostRuntime.connect(hosts) { fakes[$0.name]! }
        let cluster = try await Cluster.create(Self.spec("grow", hosts: hosts, nodes: [("node1", nil)]), runtime: runtime, store: store)
        try await cluster.addNode(NodeSpec(name: "node2", index: 2, plan: NodePlan(image: "img:1")))
        #expect(fakes["h2"]!.containerNames == ["grow-node2"])
        #expect(try store.load("grow").nodes.map(\.host) == ["h1", "h2"])
        try await cluster.remove()
    }

    /// A record written before hosts were kept still loads: one engine, no node hosts.
    @Test func aRecordWithoutHostsStillLoads() async throws {
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        let fake = FakeContainerRuntime(images: ["img:1"])
        _ = try await Cluster.create(ClusterSpec(name: "old", profile: "generic", image: "img:1",
                                                 nodes: [NodeSpec(name: "node1", index: 1, plan: NodePlan(image: "img:1"))]),
                                     runtime: fake, store: store)
        let file = store.clusterDirectory("old").appendingPathComponent("cluster.json")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(!text.contains("\"host"))   // nothing written for a cluster on one engine
        let record = try store.load("old")
        #expect(record.hosts == nil && record.nodes[0].host == nil)
    }

    // MARK: Cleanup when the owner is gone

    @Test func gcRemovesAnOrphanedClusterFromEveryHost() async throws {
        let (hosts, fakes) = try Self.engines()
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        let runtime = try await MultiHostRuntime.connect(hosts) { fakes[$0.name]! }
        _ = try await Cluster.create(Self.spec("orphan", hosts: hosts, nodes: [("node1", nil), ("node2", nil)]), runtime: runtime, store: store)
        var record = try store.load("orphan")
        record.ownerPID = 999_999   // no such process
        try store.save(record)
        var gc = GarbageCollector(runtime: fakes["h1"]!, store: store)
        gc.hostRuntime = { fakes[$0.name]! }
        let removed = try await gc.collect()
        #expect(removed.map(\.cluster) == ["orphan"])
        #expect(fakes["h1"]!.containerNames.isEmpty && fakes["h2"]!.containerNames.isEmpty)
        #expect(fakes["h1"]!.networkNames.isEmpty)
    }

    @Test func theReaperSweepsEveryHostItWasTold() async throws {
        let (_, fakes) = try Self.engines()
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        for (host, fake) in fakes {
            var spec = ContainerSpec(name: "reaped-\(host)", image: "img:1")
            spec.labels = [Labels.cluster: "reaped", Labels.run: Labels.runID, Labels.keep: "false"]
            _ = try await fake.createContainer(spec)
        }
        var pair: [Int32] = [0, 0]
        try #require(pipe(&pair) == 0)
        let lines = "host unix:///var/run/docker.sock\nhost tcp://10.9.0.2:2375\n"
        _ = lines.withCString { write(pair[1], $0, strlen($0)) }
        close(pair[1])
        defer { close(pair[0]) }
        let outcome = await ReaperProcess.run(runID: Labels.runID, owner: "4242", input: pair[0], store: store,
                                              runtime: { _ in FakeContainerRuntime() },
                                              hostRuntime: { $0.hasPrefix("tcp://") ? fakes["h2"]! : fakes["h1"]! })
        #expect(outcome.removed.containers.sorted() == ["reaped-h1", "reaped-h2"])
        #expect(fakes["h1"]!.containerNames.isEmpty && fakes["h2"]!.containerNames.isEmpty)
    }

    // MARK: The engine's words

    @Test func theSwarmPartOfDockerInfoIsRead() throws {
        let json = #"{"NodeID":"w1","NodeAddr":"172.30.0.3","LocalNodeState":"active","ControlAvailable":false,"Error":"","RemoteManagers":[{"NodeID":"m1","Addr":"172.30.0.1:2377"}]}"#
        #expect(try CLIOutput.swarm(Array(json.utf8)) == Self.workerAt172)
        #expect(try CLIOutput.swarm(Array(#"{"NodeID":"","NodeAddr":"","LocalNodeState":"inactive","ControlAvailable":false,"Error":"","RemoteManagers":null}"#.utf8)) == .notMember)
        var overlay = NetworkSpec(name: "ccm-lua-x", labels: [:])
        overlay.driver = "overlay"
        overlay.attachable = true
        #expect(CLIArguments(engine: .docker).createNetwork(overlay) == ["network", "create", "--driver", "overlay", "--attachable", "ccm-lua-x"])
    }

    static let workerAt172 = SwarmMembership(state: "active", nodeID: "w1", nodeAddress: "172.30.0.3", managers: [("m1", "172.30.0.1:2377")])
}
