import Bindings
import Foundation
import Testing

/// `ccm.http` against a local server: what a script sees of statuses, headers, bodies and JSON,
/// that connections are kept alive, that requests in parallel branches overlap, and how transport
/// failures read.
@Suite struct HTTPModuleTests {
    func run(_ source: String) async throws -> LuaHost.Outcome {
        let server = try LocalServer("http")
        defer { server.stop() }
        return await runLua("local base = 'http://\(server.address)'\n" + source)
    }

    @Test func statusHeadersAndBody() async throws {
        let outcome = try await run("""
            local http = require "ccm.http"
            local r = http.get(base .. "/hello?x=1", {headers = {["X-Token"] = "t1"}})
            assert(r.status == 200 and r.ok, r.status)
            assert(r.headers["content-type"] == "application/json", r.headers["content-type"])
            assert(r.headers["x-multi"] == "a, b", r.headers["x-multi"])
            local seen = r:json()
            assert(seen.method == "GET" and seen.path == "/hello?x=1", seen.path)
            assert(seen.headers["x-token"] == "t1")
            assert(seen.headers["host"] == base:sub(8), seen.headers["host"])

            -- a non-2xx status is a result, not an error
            local missing = http.request{method = "DELETE", url = base .. "/status/404"}
            assert(missing.status == 404 and not missing.ok and missing.body == "no such thing", missing.status)
            assert(missing.headers["x-why"] == "asked for it")

            -- the global is the same module
            assert(http == _G.http)
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func bodiesAndJSON() async throws {
        let outcome = try await run("""
            local r = http.post(base .. "/echo", "raw \\0 bytes", {headers = {["content-type"] = "text/plain"}})
            local seen = r:json()
            assert(seen.method == "POST" and seen.body == "raw \\0 bytes", seen.body)
            assert(seen.headers["content-length"] == "11" and seen.headers["content-type"] == "text/plain")

            -- a table body, or json =, is sent as JSON
            seen = http.post(base .. "/kv", {key = "a", value = 1}):json()
            assert(seen.headers["content-type"] == "application/json", seen.headers["content-type"])
            local sent = json.decode(seen.body)
            assert(sent.key == "a" and sent.value == 1, seen.body)
            seen = http.request{method = "PUT", url = base .. "/kv", json = {1, 2, 3}}:json()
            assert(seen.method == "PUT" and seen.body == "[1,2,3]", seen.body)

            -- an empty POST says so (content-length: 0)
            seen = http.post(base .. "/empty"):json()
            assert(seen.headers["content-length"] == "0", tostring(seen.headers["content-length"]))

            assert(http.base64_encode("foo") == "Zm9v" and http.base64_encode("fo") == "Zm8=" and http.base64_encode("") == "")
            assert(http.base64_decode("Zm9vYg==") == "foob")
            local ok, err = pcall(http.request, {url = base, json = {}, body = "x"})
            assert(not ok and err.kind == "usage" and err.message:find("either body or json"), tostring(err))
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func oneConnectionServesManyRequests() async throws {
        let outcome = try await run("""
            local peers = {}
            for i = 1, 50 do peers[http.get(base .. "/n"):json().peer] = true end
            local count = 0
            for _ in pairs(peers) do count = count + 1 end
            assert(count == 1, "50 requests in a row used " .. count .. " connections")
            assert(http.get(base .. "/connections").body == "1", "the server saw more than one connection")
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    /// A kept-alive connection that closes with no answer is retried on a new one only for a method
    /// that may be repeated: a POST the server received and applied must not be applied twice
    /// (a workload would record one write and the database hold two).
    @Test func aRequestLostOnAReusedConnectionIsResentOnlyWhenIdempotent() async throws {
        let outcome = try await run("""
            http.get(base .. "/warm")                      -- a connection to reuse
            local ok, err = pcall(http.post, base .. "/drop", "x")
            assert(not ok and err.kind == "http", tostring(err))
            assert(http.get(base .. "/dropped").body == "1", "the POST was sent " .. http.get(base .. "/dropped").body .. " times")
            ok, err = pcall(http.get, base .. "/drop")
            assert(http.get(base .. "/dropped").body == "3", "the GET was not sent again on a new connection")
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    /// Five 0.5 s requests in parallel branches take about 0.5 s, not 2.5 s.
    @Test func parallelBranchesOverlapTheirRequests() async throws {
        let outcome = try await run("""
            local started = now()
            local fns = {}
            for i = 1, 5 do fns[i] = function() return http.get(base .. "/sleep?s=0.5").body end end
            local results = table.pack(parallel(fns))
            local elapsed = now() - started
            for i = 1, 5 do assert(results[i] == "slept") end
            assert(elapsed < 2.0, ("five 0.5 s requests took %.2f s"):format(elapsed))
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func transportFailuresRaiseKindHTTP() async throws {
        let closed = LocalServer.closedPort()
        let outcome = try await run("""
            local function failure(fn)
              local ok, err = pcall(fn)
              assert(not ok, "no error")
              assert(err.kind == "http", tostring(err))
              return err.message
            end
            local started = now()
            local message = failure(function() http.get(base .. "/sleep?s=3", {timeout = 0.3}) end)
            assert(message:find("within 0.3 s"), message)
            assert(now() - started < 2, "the timeout did not end the wait")
            message = failure(function() http.get("http://127.0.0.1:\(closed)/") end)
            assert(message:find("refused"), message)
            message = failure(function() http.get("ftp://example/") end)
            assert(message:find("bad URL") and message:find("not http"), message)
            message = failure(function() http.get("no url at all") end)
            assert(message:find("bad URL"), message)
            message = failure(function() http.get("https://127.0.0.1/") end)
            assert(message:find("https is not supported"), message)
            -- the connection that timed out is not reused
            assert(http.get(base .. "/after").status == 200)
            -- argument mistakes are usage errors
            local ok, err = pcall(http.request, {url = base, timeot = 1})
            assert(not ok and err.kind == "usage" and err.message:find("did you mean 'timeout'"), tostring(err))
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    /// The engines' API is HTTP over a unix socket: the same client reaches it.
    @Test func requestsThroughAUnixSocket() async throws {
        let server = try LocalServer("unix")
        defer { server.stop() }
        let outcome = await runLua("""
            local r = http.get("http://engine/v1/version", {unix_socket = "\(server.socketPath)"})
            assert(r.status == 200, r.status)
            local seen = r:json()
            assert(seen.path == "/v1/version" and seen.headers.host == "engine", r.body)
            local ok, err = pcall(http.get, "http://engine/", {unix_socket = "\(server.socketPath).missing"})
            assert(not ok and err.kind == "http" and err.message:find("no such socket"), tostring(err))
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }
}
