import Foundation
import Testing
import Core

extension EngineTests {
    /// A real 3-node Raft cluster on a labelled network: it must elect one leader that every
    /// member agrees on, checked with etcdctl inside the containers.
    @Test(arguments: Engine.allCases)
    func etcdClusterElectsALeader(engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        try await Integration.withScope(runtime, "etcd") { scope in
            let network = scope.name("net")
            try await runtime.createNetwork(NetworkSpec(name: network, labels: scope.labels))
            let nodes = ["n1", "n2", "n3"]
            let initialCluster = nodes.map { "\($0)=http://\($0):2380" }.joined(separator: ",")
            for node in nodes {
                try await scope.run(node, image: Integration.etcdImage, command: [
                    "etcd", "--name", node, "--data-dir", "/tmp/etcd",
                    "--initial-advertise-peer-urls", "http://\(node):2380", "--listen-peer-urls", "http://0.0.0.0:2380",
                    "--advertise-client-urls", "http://\(node):2379", "--listen-client-urls", "http://0.0.0.0:2379",
                    "--initial-cluster", initialCluster, "--initial-cluster-state", "new",
                    "--initial-cluster-token", scope.cluster,
                ]) { spec in
                    spec.network = network
                    spec.networkAliases = [node]
                    spec.hostname = node
                }
            }
            let endpoints = nodes.map { "http://\($0):2379" }.joined(separator: ",")
            let client = scope.name("n1")

            struct Status: Decodable {
                struct Inner: Decodable {
                    struct Header: Decodable { var member_id: UInt64 }
                    var header: Header
                    var leader: UInt64
                }
                var Endpoint: String
                var Status: Inner
            }
            var statuses: [Status] = []
            let elected = try await eventually(60) {
                var request = ExecRequest(argv: [
                    "etcdctl", "--endpoints=\(endpoints)", "--dial-timeout=5s", "--command-timeout=10s",
                    "endpoint", "status", "-w", "json",
                ])
                request.timeout = Integration.execLimit
                let result = try await runtime.exec(client, request)
                guard result.code == 0,
                      let parsed = try? JSONDecoder().decode([Status].self, from: Data(result.stdout.utf8)) else { return false }
                statuses = parsed
                return parsed.count == 3 && parsed.allSatisfy { $0.Status.leader != 0 }
                    && Set(parsed.map(\.Status.leader)).count == 1
            }
            #expect(elected, "no agreed leader among \(statuses.map(\.Endpoint))")
            let leader = try #require(statuses.first?.Status.leader)
            #expect(statuses.contains { $0.Status.header.member_id == leader }, "the leader is one of the three members")

            let members = try await runtime.exec(client, ExecRequest(argv: ["etcdctl", "--endpoints=\(endpoints)", "member", "list"]))
            #expect(members.code == 0)
            #expect(members.stdout.split(separator: "\n").count == 3)
            #expect(nodes.allSatisfy { members.stdout.contains(", \($0), ") })

            let put = try await runtime.exec(scope.name("n3"), ExecRequest(argv: ["etcdctl", "--endpoints=\(endpoints)", "put", "k", "v"]))
            #expect(put.stdout == "OK\n")
            let get = try await runtime.exec(scope.name("n2"), ExecRequest(argv: ["etcdctl", "--endpoints=http://n2:2379", "get", "k", "--print-value-only"]))
            #expect(get.stdout == "v\n")

            let logs = runtime.logs(scope.name("n1"), since: nil, follow: false)
            var ready = false
            for try await line in logs where line.text.contains("ready to serve client requests") { ready = true }
            #expect(ready)
        }
    }
}
