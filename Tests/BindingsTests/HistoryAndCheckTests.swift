@testable import Bindings
import CLua
import Core
import Foundation
import Testing

/// `require "ccm.history"` and `require "ccm.check"`: what a script records, the rules of a
/// history (usage errors), values both ways, option checks, and a model written in Lua called
/// through the C boundary.
extension FakeClusters {
    @Suite struct HistoryAndCheckTests {
        @Test func operationsRecordedFromLuaComeBackWithTheirValuesAndTimes() async throws {
            let run = try await runCluster("""
                local history = require "ccm.history"
                local h = history.new()
                local w = h:invoke{process = 0, f = "write", key = "k1", value = 3}
                local r = h:invoke{process = 1, f = "read", key = 7}
                w:ok()
                r:ok(nil)
                local c = h:invoke{process = 0, f = "cas", key = "k1", value = {3, 4}}
                c:fail("precondition")
                local t = h:invoke{process = 2, f = "txn", value = {a = 1.5, b = true, c = "x", d = json.null, list = {1, "two", {3}}}}
                local next_p = t:info("timed out")
                local ops = h:ops()
                out("count", #ops)
                out("types", table.concat((function() local x = {} for i, o in ipairs(ops) do x[i] = o.type end return x end)(), ","))
                out("write ok value", ops[3].value)
                out("read ok value", tostring(ops[4].value))
                out("read key", ops[2].key)
                out("cas", ops[6])
                out("txn", ops[7].value)
                out("info error", ops[8].error)
                out("next", next_p)
                local monotonic = true
                for i = 2, #ops do if ops[i].time < ops[i - 1].time then monotonic = false end end
                out("monotonic", monotonic)
                out("indexes", ops[1].index == 0 and ops[8].index == 7)
                out("tostring", tostring(h))
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["count"] == "8")
            #expect(run.values["types"] == "invoke,invoke,ok,ok,invoke,fail,invoke,info")
            #expect(run.values["write ok value"] == "3", "op:ok() keeps the written value")
            #expect(run.values["read ok value"] == "nil", "op:ok(nil) is a read of nothing")
            #expect(run.values["read key"] == "7", "keys are strings")
            let cas = try #require(decodeJSON(run.values["cas"]) as? [String: Any])
            #expect(cas["type"] as? String == "fail" && cas["error"] as? String == "precondition" && cas["value"] as? [Int] == [3, 4])
            #expect(cas["process"] as? Int == 0 && cas["f"] as? String == "cas" && cas["key"] as? String == "k1")
            #expect(run.values["txn"] == #"{"a":1.5,"b":true,"c":"x","list":[1,"two",[3]]}"#, "json.null reads as nil")
            #expect(run.values["info error"] == "timed out")
            #expect(run.values["next"] == "3", "without concurrency: one past every client process")
            #expect(run.values["monotonic"] == "true" && run.values["indexes"] == "true")
            #expect(run.values["tostring"] == "History(history-\(run.values["tostring"]?.split(separator: "-").last?.split(separator: ",").first ?? ""), 8 events)")
        }

        @Test func breakingTheRulesOfAHistoryIsAUsageErrorThatSaysWhatToDo() async throws {
            let run = try await runCluster("""
                local history = require "ccm.history"
                local h = history.new{concurrency = 5}
                local function err(f) local ok, e = pcall(f); return ok and "no error" or (e.kind .. ": " .. tostring(e)) end
                local a = h:invoke{process = 1, f = "read", key = "k"}
                out("open", err(function() h:invoke{process = 1, f = "write", key = "k", value = 1} end))
                a:ok(1)
                out("twice", err(function() a:ok(2) end))
                local b = h:invoke{process = 2, f = "write", key = "k", value = 2}
                out("next", b:info("timeout"))
                out("crashed", err(function() h:invoke{process = 2, f = "read", key = "k"} end))
                out("no process", err(function() h:invoke{f = "read"} end))
                out("no f", err(function() h:invoke{process = 3} end))
                out("typo", err(function() h:invoke{process = 3, f = "read", valeu = 1} end))
                out("bad value", err(function() h:invoke{process = 3, f = "read", value = print} end))
                out("holes", err(function() h:invoke{process = 3, f = "read", value = {1, nil, 3}} end))
                out("dot", err(function() h.invoke{process = 3, f = "read"} end))
                out("concurrency", err(function() history.new{concurrency = 0} end))
                out("count", h:count())
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["open"] == run.usage(5, "process 1 already has an open operation (read, index 0): complete it with op:ok, op:fail or op:info before invoking again"))
            #expect(run.values["twice"] == run.usage(7, "operation read (index 0) of process 1 is already completed: an operation completes once"))
            #expect(run.values["next"] == "7", "Jepsen's next process: process + concurrency")
            #expect(run.values["crashed"] == run.usage(10, "process 2 is crashed: it ended an operation with info (outcome unknown), so it may still be running it. Invoke on a new process (op:info returns the next one)"))
            #expect(run.values["no process"] == run.usage(11, #"h:invoke: process = is required (an integer, or a name such as "nemesis")"#))
            #expect(run.values["no f"] == run.usage(12, #"h:invoke: f = is required ("read", "write", "cas", ...)"#))
            #expect(run.values["typo"] == run.usage(13, "h:invoke: unknown option 'valeu' (did you mean 'value'? known: process, f, key, value)"))
            #expect(run.values["bad value"] == run.usage(14, "an operation's value cannot be a function: use nil, booleans, numbers, strings and tables of them"))
            #expect(run.values["holes"] == run.usage(15, "an operation's value is a list with holes: use json.null for a missing item"))
            #expect(run.values["dot"] == run.usage(16, "calling 'invoke' on bad self (use ':' to call a method)"))
            #expect(run.values["concurrency"] == run.usage(17, "history.new: concurrency must be at least 1, got 0"))
            #expect(run.values["count"] == "4", "refused calls record nothing")
        }

        @Test func badCheckOptionsAreUsageErrors() async throws {
            let run = try await runCluster("""
                local history, check = require "ccm.history", require "ccm.check"
                local h = history.new()
                local function err(f) local ok, e = pcall(f); return ok and "no error" or (e.kind .. ": " .. tostring(e)) end
                out("unknown", err(function() check.linearizable(h, {model = "cas-regster"}) end))
                out("no model", err(function() check.linearizable(h, {}) end))
                out("limit", err(function() check.linearizable(h, {model = "etcd", time_limit = 0}) end))
                out("limit type", err(function() check.linearizable(h, {model = "etcd", time_limit = "1"}) end))
                out("not a history", err(function() check.linearizable({}, {model = "etcd"}) end))
                out("no step", err(function() check.linearizable(h, {model = {init = 0}}) end))
                out("extra", err(function() check.linearizable(h, {model = {init = 0, step = print, stpe = 1}}) end))
                out("typo", err(function() check.linearizable(h, {model = "etcd", time_limt = 1}) end))
                local r = check.linearizable(h, {model = "register", time_limit = 5})
                out("result", type(r.keys) == "table" and (r.valid == true or r.valid == false or r.valid == "unknown"))
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["unknown"] == run.usage(4, "check.linearizable: unknown model 'cas-regster' (did you mean 'cas-register'? known: register, cas-register, set, kv, etcd, or a table {init =, step =})"))
            #expect(run.values["no model"] == run.usage(5, "check.linearizable: model = is required (register, cas-register, set, kv, etcd, or a model table)"))
            #expect(run.values["limit"] == run.usage(6, "check.linearizable: time_limit must be a number of seconds > 0, got 0"))
            #expect(run.values["limit type"] == run.usage(7, "check.linearizable: option 'time_limit' must be a number, got string"))
            #expect(run.values["not a history"] == run.usage(8, "bad argument #1 to 'linearizable' (ccm.History expected, got table)"))
            #expect(run.values["no step"] == run.usage(9, "check.linearizable: a model table needs step = function(state, op) return ok, new_state end, got nil"))
            #expect(run.values["extra"] == run.usage(10, "check.linearizable: a model table has init and step, not 'stpe'"))
            #expect(run.values["typo"] == run.usage(11, "check.linearizable: unknown option 'time_limt' (did you mean 'time_limit'? known: model, time_limit)"))
            #expect(run.values["result"] == "true")
        }

        /// The adapter of a Lua model, called as the checker calls it: the step runs through
        /// lua_pcall, and an error or a yield inside it comes back as a failure, not a longjmp.
        @Test func aLuaModelsStepRunsProtectedAndItsErrorsComeBackAsValues() async throws {
            let results = LuaModelProbe()
            let invocation = LuaHost.Invocation(actions: [.code("""
                local probe = require "test.model"
                local json = require "ccm.json"
                local function step(state, op)
                  if op.f == "write" then return true, op.value end
                  if op.f == "read" then return op.type == "info" or json.encode(op.output) == json.encode(state), nil end
                  if op.f == "boom" then error("no such operation") end
                  if op.f == "usage" then require("ccm.errors").raise("usage", "step refused " .. op.f) end
                  if op.f == "yield" then coroutine.yield() end
                  if op.f == "number" then return 1 end
                  return true, print
                end
                probe.run(0, step, "write", 5, nil, "ok")
                probe.run(5, step, "read", nil, 5, "ok")
                probe.run(5, step, "read", nil, 4, "ok")
                probe.run(5, step, "read", nil, nil, "info")
                probe.run({a = {1, 2}}, step, "read", nil, {a = {1, 2}}, "ok")
                probe.run(0, step, "boom", nil, nil, "ok")
                probe.run(0, step, "usage", nil, nil, "ok")
                probe.run(0, step, "yield", nil, nil, "ok")
                probe.run(0, step, "number", nil, nil, "ok")
                probe.run(0, step, "state", nil, nil, "ok")
                """)]) { vm in
                var module = LuaModule("test.model")
                // run(state, step, f, value, output, kind): one step, its outcome recorded.
                module.function("run") { ctx in
                    let state = try OperationValues.read(at: 1, on: ctx.state)
                    let model = LuaModel(state: ctx.state, initial: .none, stepAt: 2)
                    defer { model.release() }
                    let f = try ctx.string(3)
                    let invoke = ClientOperation(index: 0, kind: .invoke, process: .client(1), f: f, value: try OperationValues.read(at: 4, on: ctx.state))
                    let kind = ClientOperation.Kind(rawValue: try ctx.string(6))!
                    let done = ClientOperation(index: 1, kind: kind, process: .client(1), f: f, value: try OperationValues.read(at: 5, on: ctx.state))
                    let top = lua_gettop(ctx.state)
                    do {
                        let next = try model.step(state, invocation: invoke, completion: kind == .info ? nil : done)
                        results.add(next.map { "\($0)" } ?? "impossible")
                    } catch {
                        results.add(model.failure.map { "\($0.kind): \($0.message)" } ?? "thrown \(error)")
                    }
                    results.add(lua_gettop(ctx.state) == top ? "" : "stack changed")
                    return 0
                }
                vm.preload(module)
            }
            let outcome = await LuaHost.run(invocation, settings: HostSettings(logLevel: .silent, printErrors: false))
            #expect(outcome.status == 0, "\(outcome.report ?? "")")
            let lines = results.lines.filter { !$0.isEmpty }
            #expect(!results.lines.contains("stack changed"))
            #expect(lines.count == 10, "\(lines)")
            guard lines.count == 10 else { return }
            #expect(lines[0] == "integer(5)")
            #expect(lines[1] == "integer(5)", "nil as the new state keeps the state")
            #expect(lines[2] == "impossible")
            #expect(lines[3] == "integer(5)", "an unknown outcome reaches step as type info, no output")
            #expect(lines[4] == #"map(["a": Core.OperationValue.list([Core.OperationValue.integer(1), Core.OperationValue.integer(2)])])"#)
            #expect(lines[5].hasPrefix("error: the model's step failed on boom by process 1: ") && lines[5].hasSuffix("no such operation"), "\(lines[5])")
            #expect(lines[6].hasPrefix("usage: the model's step failed on usage by process 1: ") && lines[6].hasSuffix("step refused usage"), "\(lines[6])")
            #expect(lines[7].hasPrefix("error: the model's step failed on yield by process 1: ") && lines[7].contains("yield"), "\(lines[7])")
            #expect(lines[8] == "usage: the model's step must return a boolean (can the operation happen?) and the new state, got number for number by process 1")
            #expect(lines[9] == "usage: the model's step returned a state that is not a value: an operation's value cannot be a function: use nil, booleans, numbers, strings and tables of them")
        }

        @Test func aStaleReadIsCaughtWithTheLongestPrefixAndTheOperationThatCannotBePlaced() async throws {
            let run = try await runCluster("""
                local history, check = require "ccm.history", require "ccm.check"
                local function workload(stale)
                  local h = history.new()
                  h:invoke{process = 0, f = "write", key = "a", value = 1}:ok()
                  h:invoke{process = 1, f = "write", key = "b", value = 5}:ok()
                  h:invoke{process = 0, f = "write", key = "a", value = 2}:ok()
                  h:invoke{process = 1, f = "read", key = "a"}:ok(stale and 1 or 2)
                  h:invoke{process = 2, f = "read", key = "b"}:ok(5)
                  return h
                end
                local good = check.linearizable(workload(false), {model = "etcd"})
                out("good", good.valid); out("good keys", good.keys.a.valid and good.keys.b.valid)
                local bad = check.linearizable(workload(true), {model = "cas-register"})
                out("bad", bad.valid); out("bad b", bad.keys.b.valid); out("bad a", bad.keys.a.valid)
                out("failed", bad.keys.a.failed)
                out("prefix", #bad.keys.a.linearized)
                out("describe", check.describe(bad))
                -- The same with a model written in Lua: a register.
                local register = {init = json.null, step = function(state, op)
                  if op.f == "write" then return true, op.value end
                  return op.type == "info" or op.output == state, nil
                end}
                out("lua good", check.linearizable(workload(false), {model = register}).valid)
                out("lua bad", check.linearizable(workload(true), {model = register}).valid)
                local ok, err = pcall(check.linearizable, workload(false), {model = {step = function() error("model bug") end}})
                out("lua error", err.kind .. ": " .. tostring(err))
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["good"] == "true" && run.values["good keys"] == "true")
            #expect(run.values["bad"] == "false" && run.values["bad b"] == "true" && run.values["bad a"] == "false")
            let failed = try #require(decodeJSON(run.values["failed"]) as? [String: Any])
            #expect(failed["process"] as? Int == 1 && failed["f"] as? String == "read" && failed["value"] as? Int == 1, "\(failed)")
            #expect(run.values["prefix"] == "2", "the two writes of a can be placed; the read of 1 cannot")
            #expect(run.values["describe"]?.contains("key a: not linearizable after 2 operations") == true, "\(run.values["describe"] ?? "")")
            #expect(run.values["describe"]?.contains("cannot be placed after them: process 1 read a 1 (ok at ") == true, "\(run.values["describe"] ?? "")")
            #expect(run.values["lua good"] == "true" && run.values["lua bad"] == "false")
            #expect(run.values["lua error"]?.hasPrefix("error: " + run.at(25) + "the model's step failed on write by process ") == true
                    && run.values["lua error"]?.hasSuffix("model bug") == true, "\(run.values["lua error"] ?? "")")
        }

        @Test func aSavedHistoryLoadsBackInBothFormats() async throws {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-history-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let run = try await runCluster("""
                local history = require "ccm.history"
                local h = history.new()
                h:invoke{process = 0, f = "write", key = "k", value = {1, "x", {a = true}}}:ok()
                h:invoke{process = 1, f = "read", key = "k"}:ok(2.5)
                local p = h:invoke{process = 2, f = "cas", key = "k", value = {1, 2}}:info("timeout")
                h:save([[\(folder.path)/h.jsonl]]); h:save_edn([[\(folder.path)/h.edn]])
                local function shape(x)
                  local t = {}
                  for i, o in ipairs(x:ops()) do t[i] = {o.type, o.process, o.f, o.key, o.value, o.error} end
                  return json.encode(t)
                end
                out("same jsonl", shape(history.load([[\(folder.path)/h.jsonl]])) == shape(h))
                out("edn", shape(history.load([[\(folder.path)/h.edn]])))
                out("orig", shape(h))
                local ok, err = pcall(history.load, [[\(folder.path)/missing]])
                out("missing", err.kind)
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["same jsonl"] == "true")
            #expect(run.values["edn"] != nil)
            let edn = try String(contentsOf: folder.appendingPathComponent("h.edn"), encoding: .utf8)
            #expect(edn.contains(":process 0") && edn.contains(":type :invoke") && edn.contains(":f :write"), "\(edn)")
            #expect(run.values["missing"] == "io")
        }

        @Test func anIndependentHistoryLoadsAsKeyedOperations() async throws {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-history-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            try """
                {:process 0, :type :invoke, :f :write, :value [a 1]}
                {:process 0, :type :ok, :f :write, :value [a 1]}
                {:process 1, :type :invoke, :f :read, :value [b nil]}
                {:process 1, :type :ok, :f :read, :value [b 7]}
                """.write(to: folder.appendingPathComponent("ind.edn"), atomically: true, encoding: .utf8)
            try "{:process 0, :type :invoke, :f :write, :value 1}".write(to: folder.appendingPathComponent("plain.edn"), atomically: true, encoding: .utf8)
            let run = try await runCluster("""
                local history, check = require "ccm.history", require "ccm.check"
                local h = history.load([[\(folder.path)/ind.edn]], {independent = true})
                local keys = {}
                for _, op in ipairs(h:ops()) do keys[#keys + 1] = op.key .. "=" .. tostring(op.value) end
                out("keys", table.concat(keys, " "))
                local result = check.linearizable(h, {model = "register"})
                out("valid", result.valid); out("b", result.keys.b.valid)
                local ok, err = pcall(history.load, [[\(folder.path)/plain.edn]], {independent = true})
                out("plain", err.kind .. ": " .. tostring(err))
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["keys"] == "a=1 a=1 b=nil b=7")
            #expect(run.values["valid"] == "false" && run.values["b"] == "false", "b read 7, never written")
            #expect(run.values["plain"]?.hasPrefix("usage: ") == true && run.values["plain"]?.contains("plain.edn: operation 0 has value 1, not a [key value] pair") == true,
                    "\(run.values["plain"] ?? "")")
        }

        @Test func describeNamesTheOperationThatCannotBePlaced() async throws {
            let run = try await runCluster("""
                local check = require "ccm.check"
                local t0 = 1000000000
                local result = {valid = false, keys = {
                  k1 = {valid = true, linearized = {}},
                  k2 = {valid = false,
                        linearized = {{process = 0, type = "ok", f = "write", key = "k2", value = 2, time = t0}},
                        failed = {process = 3, type = "ok", f = "read", key = "k2", value = 1, time = t0 + 250000000}},
                }}
                out("text", check.describe(result))
                out("valid", check.describe({valid = true, keys = {}}))
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["text"] == """
                verdict: NOT linearizable
                key k2: not linearizable after 1 operations
                  the last operations that can be placed, in order:
                    process 0 write k2 2 (ok at 0.000 s)
                  cannot be placed after them: process 3 read k2 1 (ok at 0.250 s)
                """)
            #expect(run.values["valid"] == "verdict: linearizable")
        }
    }
}

final class LuaModelProbe: @unchecked Sendable {
    var lines: [String] = []
    func add(_ line: String) { lines.append(line) }
}

extension ClusterRun {
    /// What `err()` in these scripts reports for a usage error raised at `line`.
    func usage(_ line: Int, _ message: String) -> String { "usage: " + at(line) + message }
}
