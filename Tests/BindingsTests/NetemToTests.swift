import Testing

/// API.md gives every packet fault `to =`; the netem ones cannot narrow it yet and say so, rather
/// than silently hitting all of the node's traffic.
extension FakeClusters {
    @Suite struct NetemToTests {
        @Test func netemFaultsRefuseToInsteadOfIgnoringIt() async throws {
            let run = try await runCluster("""
                local c = cluster.create { profile = "generic", image = "busybox:latest", nodes = 2 }
                local ok, err = pcall(fault.delay, c:node(1), { ms = 50, to = { c:node(2) } })
                out("kind", err.kind)
                out("message", err.message)
                """)
            #expect(run.values["kind"] == "unsupported", "\(run.summary)")
            #expect(run.values["message"]?.contains("'to =' is not supported for netem faults yet") == true, "\(run.summary)")
        }
    }
}
