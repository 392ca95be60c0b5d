import Bindings
import Foundation
import Testing

/// `ccm.tcp` against a local line server: lines, byte counts, time limits, a peer that closes,
/// and connections closed by the garbage collector.
@Suite struct TCPModuleTests {
    func run(_ source: String) async throws -> LuaHost.Outcome {
        let server = try LocalServer("tcp")
        defer { server.stop() }
        return await runLua("local address = '\(server.address)'\n" + source)
    }

    @Test func linesAndByteCounts() async throws {
        let outcome = try await run("""
            local tcp = require "ccm.tcp"
            local c = tcp.connect(address, {timeout = 5})
            c:send("PING\\r\\n")
            assert(c:receive("l") == "+PONG")            -- without \\r\\n
            c:send("BYTES 5\\n")
            assert(c:receive(5) == "xxxxx")
            assert(c:receive() == "tail")                -- "l" is the default
            c:send("SPLIT\\n")                           -- a line that arrives in two pieces
            assert(c:receive("l") == "hello")
            assert(c:receive("l") == "world")
            c:send("a\\0b\\n")
            assert(c:receive(4) == "a\\0b\\n")
            c:close()
            c:close()                                    -- twice is fine
            local ok, err = pcall(c.send, c, "PING\\n")
            assert(not ok and err.kind == "tcp" and err.message:find("closed"), tostring(err))
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func timeoutsAndAPeerThatCloses() async throws {
        let closed = LocalServer.closedPort()
        let outcome = try await run("""
            local c = tcp.connect(address)
            c:send("SILENT\\n")
            local started = now()
            local ok, err = pcall(c.receive, c, "l", {timeout = 0.3})
            assert(not ok and err.kind == "tcp" and err.message:find("a line did not arrive within 0.3 s"), tostring(err))
            assert(now() - started < 2)
            -- still usable after a receive ran out of time
            c:send("PING\\n")
            assert(c:receive("l") == "+PONG")
            c:send("BYE\\n")
            ok, err = pcall(c.receive, c, 100)
            assert(not ok and err.kind == "tcp" and err.message:find("closed the connection before 100 bytes"), tostring(err))
            assert(err.message:find(address, 1, true), err.message)
            ok, err = pcall(tcp.connect, "127.0.0.1:\(closed)")
            assert(not ok and err.kind == "tcp" and err.message:find("refused"), tostring(err))
            ok, err = pcall(tcp.connect, "no-port")
            assert(not ok and err.kind == "tcp" and err.message:find("host:port"), tostring(err))
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    /// Connections nobody closed are closed when collected, and with `<close>` at scope end.
    @Test func forgottenConnectionsAreClosed() async throws {
        let outcome = try await run("""
            local function open_count()
              local probe <close> = tcp.connect(address)
              probe:send("OPEN\\n")
              return tonumber(probe:receive("l"))
            end
            for i = 1, 5 do tcp.connect(address):send("PING\\n") end
            do local scoped <close> = tcp.connect(address) end
            collectgarbage(); collectgarbage()
            wait_until(function() return open_count() == 1 end, {timeout = 10, interval = 0.05})
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    /// Receives in parallel branches overlap: three 0.5 s waits take about 0.5 s.
    @Test func parallelBranchesOverlap() async throws {
        let outcome = try await run("""
            local started = now()
            parallel(function() local c = tcp.connect(address); c:send("SILENT\\n"); pcall(c.receive, c, "l", {timeout = 0.5}) end,
                     function() local c = tcp.connect(address); c:send("SILENT\\n"); pcall(c.receive, c, "l", {timeout = 0.5}) end,
                     function() local c = tcp.connect(address); c:send("SILENT\\n"); pcall(c.receive, c, "l", {timeout = 0.5}) end)
            local elapsed = now() - started
            assert(elapsed < 1.3, ("three 0.5 s waits took %.2f s"):format(elapsed))
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }
}
