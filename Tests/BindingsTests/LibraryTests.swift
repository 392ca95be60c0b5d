import Bindings
import Testing

@Suite struct LibraryTests {
    @Test func jsonRoundTrips() async {
        let outcome = await runLua(#"""
            local text = json.encode({name = "n1", ports = {9042, 7000}, up = true, ratio = 0.5, none = json.null})
            assert(text == '{"name":"n1","none":null,"ports":[9042,7000],"ratio":0.5,"up":true}', text)
            local v = json.decode(' {"a": [1, 2.5, -3e2, "x\\u00e9\\ud83d\\ude00\\n"], "b": {}, "c": [], "d": null} ')
            assert(v.a[1] == 1 and math.type(v.a[1]) == "integer" and v.a[2] == 2.5 and v.a[3] == -300)
            assert(v.a[4] == "xé😀\n", v.a[4])
            assert(v.d == json.null)
            assert(json.encode(v.c) == "[]" and json.encode(v.b) == "{}")
            assert(json.encode("tab\t\"q\" \1") == '"tab\\t\\"q\\" \\u0001"')
            assert(json.encode(json.decode(json.encode({1, {2, {3}}}))) == "[1,[2,[3]]]")
            """#)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func jsonErrorsSayWhatAndWhere() async {
        let outcome = await runLua(#"""
            local function fails(f, ...)
              local ok, err = pcall(f, ...)
              assert(not ok and err.kind == "usage", tostring(err))
              return err.message
            end
            local t = {}; t.self = t
            assert(fails(json.encode, t):find("contains itself"))
            assert(fails(json.encode, {x = 0/0}):find("NaN"))
            assert(fails(json.encode, {1, nil, 3}):find("holes"))
            assert(fails(json.encode, {1, x = 2}):find("mixes"))
            assert(fails(json.encode, print):find("cannot encode a function"))
            assert(fails(json.decode, '{"a": }'):find("unexpected '}' at line 1 column 7"))
            assert(fails(json.decode, '[1, 2'):find("end of input"))
            assert(fails(json.decode, '01'):find("malformed number"))
            assert(fails(json.decode, '"\\ud800"'):find("surrogate"))
            assert(fails(json.decode, '1 2'):find("after the value"))
            assert(fails(json.decode, 42):find("string expected"))
            """#)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func execHostRunsArgvAndShellStrings() async {
        let outcome = await runLua(#"""
            local r = exec.host({"sh", "-c", "echo out; echo err >&2; exit 3"})
            assert(r.code == 3 and r.stdout == "out\n" and r.stderr == "err\n", r.stdout)
            assert(type(r.duration) == "number" and r.duration >= 0)
            local s = exec.host("printf '%s' \"$GREETING\"; cat; pwd", {env = {GREETING = "hi "}, stdin = "there", workdir = "/tmp"})
            assert(s.stdout == "hi there/tmp\n", s.stdout)
            local ok, err = pcall(exec.host, {"sleep", "5"}, {timeout = 0.1})
            assert(not ok and err.kind == "timeout" and err.cmd == "sleep 5", tostring(err))
            local ok2, err2 = pcall(exec.host, {"/no/such/program"})
            assert(not ok2 and err2.kind == "exec", tostring(err2))
            local ok3, err3 = pcall(exec.host, 42)
            assert(err3.message == "bad argument #1 to 'host' (string or table expected, got number)", err3.message)
            local ok4, err4 = pcall(exec.host, {"true"}, {timeout = "soon"})
            assert(err4.message == "exec.host: option 'timeout' must be a number, got string", err4.message)
            """#)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }

    @Test func logStepReturnsValuesAndTagsErrors() async {
        let outcome = await runLua(#"""
            assert(log.step("adds", function() return 1 + 1 end) == 2)
            local ok, err = pcall(log.step, "explodes", function() test.probe_then_fail() end)
            assert(not ok and err.step == "explodes", tostring(err.step))
            log.info("formatted %d %s", 1, "two"); log.debug("hidden"); log.warn({})
            """#)
        #expect(outcome.status == 0, "\(outcome.report ?? "")")
    }
}
