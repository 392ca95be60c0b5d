import Foundation
import Testing
import Core

/// The multi-host fixture itself (`TestHosts`, `scripts/test-hosts`): the host and two engines in
/// containers form one swarm whose attachable overlay joins containers across engines, and `down`
/// leaves nothing behind. Docker only: Swarm is Docker's.
@Suite("Test hosts: engines in containers in one swarm", .serialized)
struct TestHostsTests {
    @Test("a container on the host and one on each inner engine resolve and reach each other on an overlay; down leaves nothing")
    func overlayAcrossEnginesThenDown() async throws {
        let hosts = try await TestHosts.shared()
        #expect(hosts.inner.count == TestHosts.count)
        #expect(hosts.inner.allSatisfy { $0.hasPrefix("tcp://") && $0.hasSuffix(":2375") }, "\(hosts.inner)")

        let manager = hosts.runtime(hosts.manager)
        // The inner engines' resources go first: the overlay cannot be removed while they use it.
        try await Integration.withScope(manager, "hosts-m") { managerScope in
            let overlay = managerScope.name("overlay")
            let labels = managerScope.labels.flatMap { ["--label", "\($0.key)=\($0.value)"] }
            let created = try await ProcessRunner.run(["docker", "network", "create", "--driver", "overlay", "--attachable"] + labels + [overlay],
                                                      environment: ["DOCKER_HOST": hosts.manager], timeout: Integration.execLimit)
            try #require(created.code == 0, "docker network create --driver overlay failed: \(created.stderrText)")

            let onHost = try await managerScope.run("a", image: TestHosts.nettoolsImage) { $0.network = overlay }
            let first = hosts.runtime(hosts.inner[0]), second = hosts.runtime(hosts.inner[1])
            try await Integration.withScope(first, "hosts-1") { firstScope in
                try await Integration.withScope(second, "hosts-2") { secondScope in
                    let onFirst = try await firstScope.run("b", image: TestHosts.nettoolsImage) { $0.network = overlay }
                    let onSecond = try await secondScope.run("c", image: TestHosts.nettoolsImage) { $0.network = overlay }
                    let everyone = [(manager, onHost), (first, onFirst), (second, onSecond)]
                    for (runtime, container) in everyone {
                        let others = everyone.map(\.1).filter { $0 != container }
                        var lookup = ExecRequest(argv: ["getent", "hosts"] + others)
                        lookup.timeout = Integration.execLimit
                        let found = try await runtime.exec(container, lookup)
                        #expect(found.code == 0, "\(container) could not resolve \(others): \(found.stdout)\(found.stderr)")
                        for other in others {
                            #expect(found.stdout.contains(other), "\(container) did not resolve \(other): \(found.stdout)")
                            var ping = ExecRequest(argv: ["ping", "-c", "1", "-W", "10", other])
                            ping.timeout = Integration.execLimit
                            let reached = try await runtime.exec(container, ping)
                            #expect(reached.code == 0, "\(container) did not reach \(other): \(reached.stdout)\(reached.stderr)")
                        }
                    }
                }
            }
        }

        try await TestHosts.down()
        let swarm = try await docker(["info", "--format", "{{.Swarm.LocalNodeState}}"])
        #expect(swarm == "inactive", "the host's Docker is still in a swarm: \(swarm)")
        let networks = try await docker(["network", "ls", "--format", "{{.Name}}"]).split(separator: "\n").map(String.init)
        for left in ["ccm-lua-test-hosts", "docker_gwbridge", "ingress"] {
            #expect(!networks.contains(left), "network \(left) is still there after down")
        }
        let containers = try await docker(["ps", "-aq", "--filter", "label=ccm-lua-test.hosts"])
        #expect(containers.isEmpty, "inner engines still there after down: \(containers)")
    }

    /// The host's Docker: one client call, its output trimmed.
    private func docker(_ arguments: [String]) async throws -> String {
        let output = try await ProcessRunner.run(["docker"] + arguments, timeout: Integration.execLimit)
        try #require(output.code == 0, "docker \(arguments.joined(separator: " ")) failed: \(output.stderrText)")
        return output.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
