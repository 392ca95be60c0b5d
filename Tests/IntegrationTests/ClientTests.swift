import Foundation
import Testing
import Core

/// Scenarios reach etcd nodes directly: `n:endpoint(2379)` by the node's address and by a
/// published port (forced with `endpoints = "published"`), `http` against etcd's v3 JSON API and
/// `tcp` with a raw HTTP exchange, on Docker and Podman.
@Suite(.serialized) struct ClientTests {
    static func script(_ name: String, endpoints: String) -> String {
        """
        local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 3, endpoints = "\(endpoints)" }
        c:start()
        local b64, unb64 = http.base64_encode, http.base64_decode
        local n1, n2 = c:node(1), c:node(2)
        local e1, e2 = n1:endpoint(2379), n2:endpoint(2379)
        print("endpoint " .. e1 .. " ip " .. tostring(n1:ip()))

        local put = http.post("http://" .. e1 .. "/v3/kv/put", {key = b64("greeting"), value = b64("hello from lua")})
        assert(put.status == 200, "put: " .. put.status .. " " .. put.body)
        local got = http.post("http://" .. e2 .. "/v3/kv/range", {key = b64("greeting")}):json()
        print("node2 reads " .. unb64(got.kvs[1].value))

        -- tcp: one raw HTTP exchange, read as a status line, header lines, then a counted body
        local conn <close> = tcp.connect(e2, {timeout = 30})
        conn:send("GET /version HTTP/1.1\\r\\nHost: etcd\\r\\n\\r\\n")
        print("tcp status " .. conn:receive("l"))
        local length
        repeat
          local line = conn:receive("l")
          length = length or tonumber(line:lower():match("^content%-length: (%d+)"))
        until line == ""
        print("tcp body " .. conn:receive(length))

        -- the endpoint is read again after a restart (a published port may change)
        n1:restart()
        local again = n1:endpoint(2379)
        local value = wait_until(function()
          local ok, r = pcall(http.post, "http://" .. again .. "/v3/kv/range", {key = b64("greeting")}, {timeout = 5})
          return ok and r.status == 200 and r:json().kvs and unb64(r:json().kvs[1].value)
        end, {timeout = 60})
        print("after restart " .. again .. " reads " .. value)

        local ok, err = pcall(n1.endpoint, n1, 8080)
        print(ok and ("8080 at " .. err) or ("8080: " .. err.kind .. ": " .. err.message))
        """
    }

    @Test(arguments: Engine.allCases, ["address", "published"])
    func scenariosTalkToEtcdNodesDirectly(engine: Engine, endpoints: String) async throws {
        let name = ScenarioTests.unique("cl-\(endpoints.prefix(3))", engine)
        try await ScenarioTests.withScenario(engine, clusters: [name]) { scenario in
            let path = try scenario.write("clients.lua", Self.script(name, endpoints: endpoints))
            let result = try scenario.run([path])
            if endpoints == "address", Integration.isRootless {
                // Rootless Podman's container addresses are never reachable from the host: the
                // first n:endpoint says so and what to use instead.
                #expect(result.status == 1, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
                #expect(result.stderr.contains("clients.lua:5: endpoints = \"address\" cannot reach nodes here: the engine is rootless")
                        && result.stderr.contains("use \"published\" or \"auto\""), "\(result.stderr)")
                #expect(try await scenario.leftovers([name]).isEmpty)
                return
            }
            #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
            let out = result.stdout
            let endpoint = try #require(out.firstMatch(of: /endpoint (\S+) ip (\S+)/), "stdout:\n\(out)")
            if endpoints == "address" {
                #expect(endpoint.1 == "\(endpoint.2):2379", "the node's own address: \(out)")
                // Podman gives a restarted container a new address: the endpoint follows it.
                let restarted = try #require(out.firstMatch(of: /after restart (\S+):2379/), "\(out)")
                #expect(out.contains("8080 at \(restarted.1):8080"), "any port of a routable node: \(out)")
            } else {
                #expect(endpoint.1.hasPrefix("127.0.0.1:") && endpoint.1 != "127.0.0.1:2379", "a published port: \(out)")
                #expect(out.contains("8080: usage: node1 does not publish port 8080"), "\(out)")
                #expect(out.contains("ports = {8080}"), "the error says what to declare: \(out)")
            }
            #expect(out.contains("node2 reads hello from lua"), "\(out)")
            #expect(out.contains("tcp status HTTP/1.1 200 OK"), "\(out)")
            #expect(out.contains(#"tcp body {"etcdserver":"3.4"#), "\(out)")
            #expect(out.contains(" reads hello from lua\n") && out.contains("after restart "), "\(out)")
            #expect(try await scenario.leftovers([name]).isEmpty)
        }
    }
}
