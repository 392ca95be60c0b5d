import Core
import Testing

/// API.md gives every packet fault `to =`. The netem ones narrow it like `fault.rate` does; on a
/// kernel without netem they still say "unsupported" (the probe comes before any rule).
extension FakeClusters {
    @Suite struct NetemToTests {
        @Test func netemFaultsTakeToAndCheckItsNodes() async throws {
            NetemSupport.assume(false)
            defer { NetemSupport.assume(nil) }
            let run = try await runCluster("""
                local c = cluster.create { profile = "generic", image = "busybox:latest", nodes = 2 }
                c:start()
                local ok, err = pcall(fault.delay, c:node(1), { ms = 50, to = { c:node(2) } })
                out("kind", err.kind)
                out("message", err.message)
                ok, err = pcall(fault.reorder, c:node(1), { percent = 5, to = { "node9" } })
                out("unknown", err.kind .. ": " .. err.message)
                """)
            #expect(run.values["kind"] == "unsupported", "\(run.summary) \(run.values)")
            #expect(run.values["message"]?.contains("sch_netem") == true, "\(run.summary)")
            #expect(run.values["message"]?.contains("'to =' is not supported") == false, "\(run.summary)")
            #expect(run.values["unknown"]?.hasPrefix("usage: ") == true && run.values["unknown"]?.contains("node9") == true, "\(run.summary)")
        }
    }
}
