import Foundation
import Testing
import Core

/// The cluster model (Core, no Lua) against real engines: a 3-node etcd cluster, log capture and
/// marks, waiters, attach from a fresh `Cluster`, one-shot containers, and removal that leaves nothing.
@Suite(.serialized) struct ClusterTests {
    /// What the etcd profile plans, written out in Swift for tests that do not go through Lua.
    static func etcdSpec(_ name: String, nodes count: Int = 3) -> ClusterSpec {
        let names = (1...count).map { "node\($0)" }
        let members = names.map { "\($0)=http://\($0):2380" }.joined(separator: ",")
        let nodes = names.enumerated().map { i, node in
            var plan = NodePlan(image: Integration.etcdImage)
            plan.command = ["etcd", "--name", node, "--data-dir", "/var/lib/etcd/\(node)",
                            "--listen-peer-urls", "http://0.0.0.0:2380", "--listen-client-urls", "http://0.0.0.0:2379",
                            "--initial-advertise-peer-urls", "http://\(node):2380", "--advertise-client-urls", "http://\(node):2379",
                            "--initial-cluster", members, "--initial-cluster-token", name, "--initial-cluster-state", "new"]
            plan.readiness = Readiness(logPattern: "ready to serve client requests", plain: true,
                                       probe: ["etcdctl", "--endpoints=http://127.0.0.1:2379", "endpoint", "health"])
            return NodeSpec(name: node, index: i + 1, plan: plan)
        }
        return ClusterSpec(name: name, profile: "etcd", image: Integration.etcdImage, startOrder: .sequential, nodes: nodes)
    }

    static func store() -> StateStore {
        StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-it-\(UUID().uuidString)"))
    }

    static func clusterName(_ what: String, _ engine: Engine) -> String {
        "it-\(Labels.runID.prefix(6))-\(what)-\(engine.rawValue.prefix(1))"
    }

    /// Creates a cluster and always removes it (and the state folder) afterwards.
    static func withCluster<T>(_ spec: ClusterSpec, on engine: Engine,
                               _ body: (Cluster, CLIContainerRuntime, StateStore) async throws -> T) async throws -> T {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let store = store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        // The cluster runs on the runtime a user's run chooses; the body checks through the client.
        let chosen = try EngineAPIRuntime.choose(cli: runtime, environment: ProcessInfo.processInfo.environment)
        let cluster = try await Cluster.create(spec, runtime: chosen, store: store)
        do {
            let result = try await body(cluster, runtime, store)
            try await cluster.remove()
            return result
        } catch {
            try? await cluster.remove()
            throw error
        }
    }

    static func leader(_ cluster: Cluster, asking node: String) async throws -> String? {
        try await leaderAndOutput(cluster, asking: node).leader
    }

    /// As the etcd profile's `n:leader()`: the leader id `node` knows, named through its member
    /// list; only its own endpoint is asked.
    static func leaderAndOutput(_ cluster: Cluster, asking node: String) async throws -> (leader: String?, output: String) {
        func local(_ arguments: [String]) async throws -> ExecResult {
            var request = ExecRequest(argv: ["etcdctl", "--endpoints=http://127.0.0.1:2379", "--dial-timeout=5s",
                                             "--command-timeout=10s"] + arguments)
            request.timeout = Integration.execLimit
            return try await cluster.exec(node: node, request)
        }
        let status = try await local(["endpoint", "status", "-w", "fields"])
        guard status.code == 0, let id = status.stdout.firstMatch(of: /"Leader" : (\d+)/)?.1, id != "0" else {
            return (nil, "exit \(status.code): \(status.stdout)\(status.stderr)")
        }
        let members = try await local(["member", "list", "-w", "fields"])
        for match in members.stdout.matches(of: /"ID" : (\d+)\s+"Name" : "([^"]*)"/) where match.1 == id {
            return (String(match.2), status.stdout)
        }
        return (nil, "leader \(id) not in: \(members.stdout)\(members.stderr)")
    }

    @Test(arguments: Engine.allCases)
    func etcdLosesItsLeaderAndTheOldOneRejoins(_ engine: Engine) async throws {
        try await Self.withCluster(Self.etcdSpec(Self.clusterName("failover", engine)), on: engine) { cluster, runtime, store in
            try await cluster.start(timeout: 60)
            let statuses = try await cluster.status()
            #expect(statuses.map(\.state) == [.running, .running, .running])
            #expect(statuses.allSatisfy { $0.ip != nil })

            var found: String?
            _ = try await eventually(60) { found = try await Self.leader(cluster, asking: "node1"); return found != nil }
            let leader = try #require(found, "no leader reported after the cluster was ready")
            let survivor = try #require(await cluster.nodeNames.first { $0 != leader })
            let log = try await cluster.log(of: leader)
            let mark = log.mark()

            try await cluster.stop(nodes: [leader], gently: false)
            #expect(try await cluster.state(of: leader) == .exited)
            var lastSeen = ""
            let elected = try await eventually(60) {
                let (now, output) = try await Self.leaderAndOutput(cluster, asking: survivor)
                lastSeen = output
                return now != nil && now != leader
            }
            #expect(elected, "no new leader after \(leader) stopped; \(survivor) last said: \(lastSeen)")

            // The old leader comes back: only lines after the mark count, and it follows the new leader.
            // Starting the whole cluster waits for the stopped node only: the running ones will not
            // print their ready line again.
            let restart = ContinuousClock.now
            try await cluster.start(timeout: 90)
            #expect(ContinuousClock.now - restart < .seconds(60), "start waited on nodes that were up")
            let rejoined = try await log.wait(for: try LogPattern("elected leader [0-9a-f]+ at term"), from: mark, timeout: 60,
                                              nodeName: leader)
            #expect(rejoined.count == 1)
            #expect(try await eventually(60) { try await Self.leader(cluster, asking: leader) != nil })

            // Marks are byte offsets into a file that only grows: nothing was read twice. A line may
            // repeat word for word only as often as the engine has it (etcd prints its capnslog
            // warning twice, and Podman stamps both with one time).
            let lines = try String(contentsOf: log.file, encoding: .utf8).split(separator: "\n")
            func key(_ stamp: Substring, _ text: Substring) -> String {
                (LogTimestamp(String(stamp)).map { "\($0.seconds).\($0.nanos)" } ?? String(stamp)) + " " + text
            }
            var inEngine: [String: Int] = [:]
            for try await line in runtime.logs(try await cluster.node(leader).container, since: nil, follow: false) {
                inEngine[key(line.timestamp[...], line.text[...]), default: 0] += 1
            }
            let inFile = Dictionary(grouping: lines.map { line in
                let space = line.firstIndex(of: " ") ?? line.endIndex
                return key(line[..<space], line[space...].dropFirst())
            }, by: { $0 })
            let repeated = inFile.filter { $0.value.count > inEngine[$0.key, default: 0] }.keys
            #expect(repeated.isEmpty, "node.log has lines more often than the engine's log: \(repeated)")
            #expect(lines.filter { $0.contains("ready to serve client requests") }.count >= 2)
            _ = runtime; _ = store
        }
    }

    @Test(arguments: Engine.allCases)
    func twoWaitersOnOneNodeAndATimeoutThatShowsTheLastLines(_ engine: Engine) async throws {
        try await Self.withCluster(Self.etcdSpec(Self.clusterName("waiters", engine), nodes: 1), on: engine) { cluster, _, _ in
            let log = try await cluster.log(of: "node1")
            let mark = log.mark()
            async let ready = log.wait(for: try LogPattern("ready to serve client requests", plain: true), from: mark,
                                       timeout: 60, nodeName: "node1")
            async let elected = log.wait(for: try LogPattern("elected leader"), from: mark, timeout: 60, nodeName: "node1")
            try await cluster.start(wait: false)
            let (a, b) = try await (ready, elected)
            #expect(a.first?.contains("ready to serve client requests") == true)
            #expect(b.first?.contains("elected leader") == true)

            let error = try await #require(throws: ClusterError.self) {
                _ = try await log.wait(for: try LogPattern("this line never comes", plain: true), timeout: 0.5, nodeName: "node1")
            }
            #expect(error.kind == .timeout)
            #expect(error.message.contains("node1"))
            #expect(!error.lastLines.isEmpty)
        }
    }

    @Test(arguments: Engine.allCases)
    func attachFromAFreshClusterSeesTheSameNodesAndLog(_ engine: Engine) async throws {
        try await Self.withCluster(Self.etcdSpec(Self.clusterName("attach", engine), nodes: 1), on: engine) { cluster, runtime, store in
            try await cluster.start(timeout: 60)
            let mark = try await cluster.log(of: "node1").mark()
            let ip = try await cluster.ip(of: "node1")

            let again = try await Cluster.attach(cluster.name, store: store) { _ in runtime }
            #expect(await again.nodeNames == ["node1"])
            #expect(try await again.ip(of: "node1") == ip)
            // A write after attaching shows up in the log through the second follower, after the old mark.
            _ = try await again.exec(node: "node1", ExecRequest(argv: ["etcdctl", "put", "k", "v"]))
            try await again.stop(nodes: ["node1"])
            try await again.start(nodes: ["node1"], timeout: 60)
            let lines = try await again.log(of: "node1").wait(for: try LogPattern("ready to serve client requests", plain: true),
                                                              from: mark, timeout: 60, nodeName: "node1")
            #expect(lines.count == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func runOnceReturnsExitCodeAndOutput(_ engine: Engine) async throws {
        try await Self.withCluster(Self.etcdSpec(Self.clusterName("once", engine), nodes: 1), on: engine) { cluster, runtime, _ in
            let ok = try await cluster.runOnce(image: Integration.baseImage, command: ["sh", "-c", "echo hello; echo oops >&2"])
            #expect(ok.code == 0)
            #expect(ok.stdout == "hello\n" && ok.stderr == "oops\n")
            let failed = try await cluster.runOnce(image: Integration.baseImage, command: ["sh", "-c", "exit 3"])
            #expect(failed.code == 3)
            // One-shot containers are gone afterwards; the node remains.
            let left = try await runtime.listContainers(labels: [Labels.cluster: cluster.name])
            #expect(left.count == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func removeLeavesNothingAndIsIdempotent(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        let name = Self.clusterName("remove", engine)
        let cluster = try await Cluster.create(Self.etcdSpec(name, nodes: 2), runtime: runtime, store: store)
        try await cluster.addService({
            var s = ServiceSpec(name: "web", image: Integration.baseImage)
            s.command = ["sleep", "1000"]
            return s
        }())
        #expect(try await runtime.listContainers(labels: [Labels.cluster: name]).count == 3)
        try await cluster.remove()
        try await cluster.remove()
        #expect(try await runtime.listContainers(labels: [Labels.cluster: name]).isEmpty)
        #expect(try await runtime.listNetworks(labels: [Labels.cluster: name]).isEmpty)
        #expect(!store.exists(name))
    }

    @Test(arguments: Engine.allCases)
    func aMissingImageFailsBeforeAnythingIsCreated(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [])
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        var spec = Self.etcdSpec(Self.clusterName("noimage", engine), nodes: 1)
        spec.nodes[0].plan.image = "ccm-lua-test/does-not-exist:1"
        let error = try await #require(throws: RuntimeError.self) {
            _ = try await Cluster.create(spec, runtime: runtime, store: store)
        }
        #expect(error.kind == .imageNotFound)
        #expect(error.description.contains("ccm-lua-test/does-not-exist:1"))
        #expect(!store.exists(spec.name))
        #expect(try await runtime.listNetworks(labels: [Labels.cluster: spec.name]).isEmpty)
    }
}
