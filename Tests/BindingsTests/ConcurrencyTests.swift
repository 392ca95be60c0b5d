import Bindings
import Foundation
import Testing

@Suite struct ConcurrencyTests {
    /// Timed inside Lua, around the call: VM start-up is not what this is about.
    @Test func parallelBranchesOverlapTheirWaits() async {
        let outcome = await runLua("""
            local started = now()
            local a, b, c = parallel(function() sleep(0.5) return "a" end,
                                     function() sleep(0.5) return "b" end,
                                     function() sleep(0.5) return "c" end)
            local elapsed = now() - started
            assert(a == "a" and b == "b" and c == "c")
            assert(elapsed >= 0.5, "returned before the sleeps ended: " .. elapsed)
            assert(elapsed < 0.8, ("three 0.5 s sleeps took %.3f s"):format(elapsed))
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func parallelAcceptsAListAndKeepsOrder() async {
        let outcome = await runLua("""
            local r = table.pack(parallel{
              function() sleep(0.03) return 1 end,
              function() return nil end,
              function() sleep(0.01) return 3 end,
            })
            assert(r.n == 3 and r[1] == 1 and r[2] == nil and r[3] == 3)
            assert(select("#", parallel()) == 0)
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func firstErrorCancelsSiblingsAndIsReraised() async {
        let counters = Counters()
        let outcome = await runLua("""
            local closed = false
            local ok, err = pcall(parallel,
              function()
                local guard <close> = setmetatable({}, {__close = function() closed = true end})
                test.park()
                error("must not get here")
              end,
              function() sleep(0.01); error({kind = "custom", message = "boom"}) end)
            assert(not ok and err.message == "boom", tostring(err))
            assert(closed, "the sibling's to-be-closed variable ran")
            assert(test.count("cancelled") == 1, "the sibling's pending operation was cancelled")
            """, counters: counters)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
        #expect(counters.value("cancelled") == 1)
    }

    @Test func nestedParallelIsCancelledToo() async {
        let counters = Counters()
        let outcome = await runLua("""
            local ok, err = pcall(parallel,
              function() parallel(test.park, test.park) end,
              function() sleep(0.01) error("outer failure") end)
            assert(not ok and tostring(err):find("outer failure"))
            assert(test.count("cancelled") == 2, test.count("cancelled"))
            """, counters: counters)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func waitUntilReturnsTheFirstTruthyValueOrTimesOut() async {
        let outcome = await runLua("""
            local n = 0
            assert(wait_until(function() n = n + 1; return n >= 3 and "ready" end, {interval = 0.001}) == "ready")
            local ok, err = pcall(wait_until, function() error("not yet") end, {timeout = 0.05, interval = 0.01})
            assert(not ok and err.kind == "timeout", tostring(err))
            assert(err.message:find("within 0.05 s") and err.message:find("not yet"), err.message)
            local ok2, err2 = pcall(wait_until, "nope")
            assert(err2.kind == "usage" and err2.message:find("function expected"), tostring(err2))
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func nowIsMonotonicSeconds() async {
        let outcome = await runLua("""
            local a = now(); sleep(0.02); local b = now()
            assert(b - a >= 0.02 and b - a < 1, b - a)
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func cleanupFunctionsRunAfterAnError() async {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-cleanup-\(UUID().uuidString)").path
        let outcome = await runLua("""
            require("ccm").on_exit(function() sleep(0.001); io.open("\(marker)", "w"):close() end)
            error("the script fails")
            """)
        #expect(outcome.status == 1)
        #expect(FileManager.default.fileExists(atPath: marker))
        try? FileManager.default.removeItem(atPath: marker)
    }
}
