import Core
import CoreTesting
import Testing

/// A script whose cluster could not be removed at its end must not exit 0: CI would never notice
/// what it left behind.
extension FakeClusters {
    @Suite struct CleanupFailureTests {
        @Test func aClusterThatCouldNotBeRemovedFailsTheRun() async throws {
            let run = try await runCluster("""
                local c = cluster.create { profile = "generic", image = "busybox:latest", nodes = 1 }
                out("created", c.name)
                """, prepare: { $0.failNext("remove", with: .daemonNotRunning) })
            #expect(run.values["created"] != nil, "\(run.summary)")
            #expect(run.outcome.status == 1, "\(run.summary)")
        }

        @Test func aClusterRemovedAtTheEndLeavesStatusZero() async throws {
            let run = try await runCluster("""
                local c = cluster.create { profile = "generic", image = "busybox:latest", nodes = 1 }
                out("created", c.name)
                """)
            #expect(run.outcome.status == 0, "\(run.summary)")
            #expect(run.fake.containerNames.isEmpty)
        }
    }
}
