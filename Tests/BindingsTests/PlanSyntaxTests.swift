import Core
import CoreTesting
import Foundation
import Testing

/// Volumes, ports and string commands in a spec reach the engine as Core reads them.
extension FakeClusters {
    @Suite struct PlanSyntaxTests {
        @Test func volumesAndPortsInEveryDockerForm() async throws {
            let run = try await runCluster("""
                cluster.create { name = "vp", image = "busybox:latest", profile = "generic",
                  volumes = { "/tmp/a:/data:ro", "/tmp/b:/b", { host = "/tmp/c", container = "/c", read_only = true } },
                  ports = { 9042, "7000:7000", "8080:80/udp", "127.0.0.1::2379", "0.0.0.0:7001:7001", "53/udp" } }
                """)
            #expect(run.error == nil, "\(run.summary)")
            let container = try #require(run.container("vp", "node1"))
            #expect(Array(container.mounts.suffix(3)) == [
                Mount(hostPath: "/tmp/a", containerPath: "/data", readOnly: true),
                Mount(hostPath: "/tmp/b", containerPath: "/b"),
                Mount(hostPath: "/tmp/c", containerPath: "/c", readOnly: true),
            ])
            #expect(container.ports == [
                PortMapping(containerPort: 9042),
                PortMapping(hostPort: 7000, containerPort: 7000),
                PortMapping(hostPort: 8080, containerPort: 80, proto: "udp"),
                PortMapping(containerPort: 2379, hostIP: "127.0.0.1"),
                PortMapping(hostPort: 7001, containerPort: 7001, hostIP: "0.0.0.0"),
                PortMapping(containerPort: 53, proto: "udp"),
            ])
        }

        @Test(arguments: [
            (#"volumes = { "/tmp/a" }"#, #"node1's plan: volumes must be "host:container" or "host:container:ro" (got "/tmp/a")"#),
            (#"volumes = { "/a:/b:rx" }"#, #"node1's plan: volumes must be "host:container" or "host:container:ro" (got "/a:/b:rx")"#),
            (#"ports = { "80:http" }"#, #"node1's plan: ports must be numbers or "[ip:][host:]container[/udp]" (got "80:http")"#),
            (#"ports = { "80/icmp" }"#, #"node1's plan: ports must be numbers or "[ip:][host:]container[/udp]" (got "80/icmp")"#),
            (#"ports = { "70000" }"#, #"node1's plan: ports must be numbers or "[ip:][host:]container[/udp]" (got "70000")"#),
        ])
        func malformedVolumesAndPortsNameTheText(field: String, message: String) async throws {
            let run = try await runCluster("""
                cluster.create { name = "bad", image = "busybox:latest", profile = "generic", \(field) }
                """)
            let error = try #require(run.error, "\(run.summary)")
            #expect(error.kind == "config")
            #expect(error.message == message)
            #expect(run.fake.calls("createContainer").isEmpty)
        }

        @Test func aStringCommandRunsThroughTheShellEverywhere() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "sh", image = "busybox:latest", profile = "generic", command = "echo a" }
                c:start()
                local n = c:node(1)
                n:exec("echo b")
                n:run("echo c")
                c:add_service { name = "svc", image = "busybox:latest", command = "echo d" }
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.container("sh", "node1")?.command == ["sh", "-c", "echo a"])
            #expect(run.execs.suffix(2).map { Array($0.suffix(3)) } == [["sh", "-c", "echo b"], ["sh", "-c", "echo c"]])
            #expect(run.containers.values.contains { $0.command == ["sh", "-c", "echo d"] })
        }
    }
}
