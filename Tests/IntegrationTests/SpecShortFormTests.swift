import Core
import Foundation
import Testing

/// Docker's short forms in a spec and string commands, as a script writes them, reach a real
/// engine the way `docker run` would take them.
@Suite struct SpecShortFormTests {
    @Test(arguments: Engine.allCases)
    func portsVolumesAndShellCommandsWork(_ engine: Engine) async throws {
        let name = ScenarioTests.unique("forms", engine)
        try await ScenarioTests.withScenario(engine, clusters: [name]) { scenario in
            let shared = scenario.folder.appendingPathComponent("shared")
            try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
            try "hello from the host\n".write(to: shared.appendingPathComponent("hello.txt"), atomically: true, encoding: .utf8)
            let script = try scenario.write("\(name).lua", """
                local c = cluster.create { profile = "generic", name = "\(name)", image = "\(Integration.etcdImage)",
                  command = "echo started; exec sleep 600", ready = { log = "started" },
                  ports = { "127.0.0.1::2379" }, volumes = { "\(shared.path):/shared:ro" } }
                c:start()
                local n = c:node(1)
                print("shell=" .. n:run("echo $((6 * 7))"))
                print("file=" .. n:run({ "cat", "/shared/hello.txt" }))
                print("read-only=" .. tostring(n:exec("touch /shared/x").code ~= 0))
                local port = exec.host({ c.runtime, "port", "\(name)-node1", "2379/tcp" }).stdout
                print("port=" .. (port:match("^127%.0%.0%.1:%d+") and "loopback" or port))
                """)
            try await scenario.expectSuccess(script, printing: ["shell=42", "file=hello from the host", "read-only=true",
                                                                "port=loopback"], leaving: [name])
        }
    }
}
