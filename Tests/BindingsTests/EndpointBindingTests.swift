import Core
import CoreTesting
import Foundation
import Testing

/// `n:endpoint` and `spec.endpoints` as a script sees them, on the fake engine (local, rootful).
extension FakeClusters {
    @Suite struct EndpointBindingTests {
        @Test func endpointGivesTheAddressAndThePublishedRouteIsForceable() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "ep", profile = "generic", image = "busybox:latest", start = true }
                out("endpoint", c:node(1):endpoint(8080))
                out("ip", c:node(1):ip())
                local p = cluster.create { name = "ep-pub", profile = "generic", image = "busybox:latest", start = true,
                                           endpoints = "published", ports = { 8080 } }
                out("published", p:node(1):endpoint(8080))
                local ok, err = pcall(p:node(1).endpoint, p:node(1), 9090)
                out("undeclared", err.kind .. ": " .. err.message)
                ok, err = pcall(c:node(1).endpoint, c:node(1), "8080x")
                out("bad", err.kind .. ": " .. err.message)
                cluster.create { name = "ep-bad", profile = "generic", image = "busybox:latest", endpoints = "proxy" }
                """)
            #expect(run.values["endpoint"] == "\(run.values["ip"] ?? "?"):8080", "\(run.summary)")
            #expect(run.values["published"]?.hasPrefix("127.0.0.1:") == true, "\(run.summary)")
            #expect(run.values["undeclared"]?.hasPrefix("usage: node1 does not publish port 9090") == true, "\(run.summary)")
            #expect(run.values["bad"]?.contains("bad argument #1 to 'endpoint' (number expected, got string)") == true, "\(run.summary)")
            #expect(run.error?.kind == "usage" && run.error?.message.contains("spec.endpoints must be") == true, "\(run.summary)")
        }
    }
}
