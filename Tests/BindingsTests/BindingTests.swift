import Bindings
import Testing

@Suite struct BindingTests {
    @Test func errorFromABindingIsCaughtByPcallAndLeaksNothing() async {
        let counters = Counters()
        let outcome = await runLua("""
            local ok, err = pcall(function() test.probe_then_fail() end)
            assert(not ok, "the binding should fail")
            assert(err.kind == "config", "kind: " .. tostring(err.kind))
            assert(err.message == "this binding always fails", err.message)
            assert(tostring(err):match("^%(command line%):%d+: this binding always fails$"), tostring(err))
            """, counters: counters)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
        #expect(counters.value("created") == 1)
        #expect(counters.value("released") == 1)
    }

    @Test func badArgumentsReadLikeLuaErrors() async {
        let outcome = await runLua("""
            local ok, err = pcall(function() sleep("soon") end)
            assert(err.message == "bad argument #1 to 'sleep' (number expected, got string)", err.message)
            assert(err.kind == "usage")
            local p = test.probe("x")
            local ok2, err2 = pcall(function() return p.greet(42) end)
            assert(err2.message:find("Probe expected, got number"), err2.message)
            local ok3, err3 = pcall(function() return p:greet({}) end)
            assert(err3.message == "bad argument #1 to 'greet' (string expected, got table)", err3.message)
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func userdataIsReleasedByCollectgarbageAndByClose() async {
        let counters = Counters()
        let outcome = await runLua("""
            do
              local p <close> = test.probe("scoped")
              assert(p.label == "scoped" and p:greet("you") == "hello you from scoped")
            end
            assert(test.count("released") == 1, "released at the end of the <close> scope")
            local q = test.probe("garbage")
            assert(tostring(q) == "Probe: garbage", tostring(q))
            q = nil
            collectgarbage(); collectgarbage()
            assert(test.count("released") == 2, "released by the collector")
            local r = test.probe("kept")
            assert(getmetatable(r) == false, "the metatable is locked")
            """, counters: counters)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
        #expect(counters.value("created") == 3)
        #expect(counters.value("released") == 3)  // the last one when the state closes
    }

    @Test func usingAClosedObjectIsAClearError() async {
        let outcome = await runLua("""
            local p = test.probe("gone")
            do local q <close> = p end
            local ok, err = pcall(p.greet, p, "x")
            assert(err.message == "attempt to use a closed Probe", tostring(err.message))
            assert(tostring(p) == "Probe (closed)")
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func suspendingBindingReturnsAUserdata() async {
        let counters = Counters()
        let outcome = await runLua("""
            local a, b = parallel(function() return test.async_probe("one") end,
                                  function() return test.async_probe("two") end)
            assert(a.label == "ONE" and b.label == "TWO")
            -- where a coroutine cannot yield (a sort comparator), the binding waits in place
            local t = {3, 1, 2}
            table.sort(t, function(x, y) local p <close> = test.async_probe("in place") return x < y end)
            assert(t[1] == 1 and t[3] == 3)
            """, counters: counters)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
        #expect(counters.value("created") == counters.value("released"))
    }

    @Test func coreRuntimeErrorsBecomeErrorValuesWithKinds() async {
        let outcome = await runLua("""
            local ok, err = pcall(test.runtime_error)
            assert(err.kind == "image", err.kind)
            assert(err.cmd == "docker image inspect nope:1", err.cmd)
            assert(err.code == 1 and err.stderr:find("No such image"))
            assert(err.message:find("build or pull it first"))
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func uncaughtErrorValueReportsPositionAndFields() async {
        let outcome = await runLua("\n\ntest.runtime_error()")
        #expect(outcome.status == 1)
        let report = outcome.report ?? ""
        #expect(report.hasPrefix("ccm-lua: (command line):3: image 'nope:1' is not present"), "\(report)")
        #expect(report.contains("command: docker image inspect nope:1"))
        #expect(report.contains("stack traceback:"))
        #expect(!report.contains("not a string"))
    }

    @Test func scriptCoroutinesCanSleep() async {
        let outcome = await runLua("""
            local gen = coroutine.wrap(function() for i = 1, 3 do sleep(0.001) coroutine.yield(i) end end)
            assert(gen() == 1 and gen() == 2 and gen() == 3)
            local co = coroutine.create(function(x) sleep(0.001) return x * 2 end)
            local ok, v = coroutine.resume(co, 21)
            assert(ok and v == 42, tostring(v))
            """)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func yieldingFromTheScriptItselfIsAnError() async {
        let outcome = await runLua("coroutine.yield(1)")
        #expect(outcome.status == 1)
        #expect(outcome.report?.contains("attempt to yield from outside a coroutine") == true)
    }
}
