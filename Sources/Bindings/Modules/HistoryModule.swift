import CLua
import CLuaShim
import Core
import Foundation

/// `ccm.history.native`: the Swift half of `require "ccm.history"` (lua/ccm/history.lua). The
/// operations are kept by Core's `WorkloadRecorder`; this file only converts values and calls it.
enum HistoryModule {
    static var module: LuaModule {
        var module = LuaModule("ccm.history.native")
        module.function("new") { ctx in
            ctx.push(HistoryHandle(WorkloadRecorder()))
            return 1
        }
        // invoke(handle, process, f, key, value) -> index
        module.function("invoke") { ctx in
            let recorder = try ctx.object(1, as: HistoryHandle.self).recorder
            let process = try OperationValues.process(at: 2, ctx)
            let f = try ctx.string(3)
            let key = try ctx.optionalString(4)
            let value = try OperationValues.read(at: 5, on: ctx.state)
            do { ctx.push(try recorder.invoke(process: process, f: f, key: key, value: value)) } catch let e as WorkloadRecorder.UsageError {
                throw LuaError(kind: "usage", e.message)
            }
            return 1
        }
        // complete(handle, index, "ok"|"fail"|"info", has_value, value, reason)
        module.function("complete") { ctx in
            let recorder = try ctx.object(1, as: HistoryHandle.self).recorder
            let index = try ctx.integer(2)
            guard let kind = ClientOperation.Kind(rawValue: try ctx.string(3)) else { throw LuaArgumentError(3, detail: "ok, fail or info expected") }
            let value = ctx.truthy(4) ? try OperationValues.read(at: 5, on: ctx.state) : nil
            let reason = ctx.isNoneOrNil(6) ? nil : LuaStack.describe(at: 6, on: ctx.state)
            do { try recorder.complete(index, kind: kind, value: value, error: reason) } catch let e as WorkloadRecorder.UsageError {
                throw LuaError(kind: "usage", e.message)
            }
            return 0
        }
        // next_process(handle, process, concurrency) -> the crashed process's successor
        module.function("next_process") { ctx in
            let recorder = try ctx.object(1, as: HistoryHandle.self).recorder
            ctx.push(recorder.nextProcess(after: try ctx.integer(2), concurrency: try ctx.optionalInteger(3)))
            return 1
        }
        module.function("count") { ctx in
            ctx.push(try ctx.object(1, as: HistoryHandle.self).recorder.count)
            return 1
        }
        // ops(handle, with_faults) -> {op, ...}
        module.function("ops") { ctx in
            let recorder = try ctx.object(1, as: HistoryHandle.self).recorder
            let history = ctx.truthy(2) ? WorkloadFaults.merged(recorder.history, events: History.run.events) : recorder.history
            OperationValues.push(history.operations, on: ctx.state)
            return 1
        }
        // save(handle, path, "jsonl"|"edn"): with the run's faults as nemesis operations.
        module.function("save") { ctx in
            let recorder = try ctx.object(1, as: HistoryHandle.self).recorder
            let path = try ctx.string(2)
            let history = WorkloadFaults.merged(recorder.history, events: History.run.events)
            let data: Data = try ctx.string(3) == "edn" ? Data(OperationHistoryFormats.edn(history).utf8) : OperationHistoryFormats.jsonLines(history)
            do {
                let url = URL(fileURLWithPath: path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: url, options: .atomic)
            } catch {
                throw LuaError(kind: "io", "cannot write the history to \(path): \(error.localizedDescription)")
            }
            recorder.publish()
            return 0
        }
        // load(path [, {independent = bool}]) -> handle
        module.function("load") { ctx in
            let path = try ctx.string(1)
            let independent = try ctx.options(2)?.boolean("independent") ?? false
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw LuaError(kind: "io", "cannot read the history \(path): \(error.localizedDescription)")
            }
            var history: OperationHistory
            do { history = try OperationHistoryFormats.load(data) } catch {
                throw LuaError(kind: "usage", "\(path) is not a history ccm-lua can read (its JSON lines, Jepsen's EDN op maps or Jepsen's etcd text log): \(error)")
            }
            if independent {
                do { history = try history.splittingIndependentKeys() } catch {
                    throw LuaError(kind: "usage", "\(path): \(error)")
                }
            }
            ctx.push(HistoryHandle(WorkloadRecorder(history)))
            return 1
        }
        return module
    }
}

/// A workload history in a userdata; the Lua `History` object holds it as `_handle`.
final class HistoryHandle: LuaObject {
    static let luaTypeName = "ccm.history.native"
    let recorder: WorkloadRecorder
    init(_ recorder: WorkloadRecorder) { self.recorder = recorder }
    deinit { recorder.retire() }
    var luaDescription: String { "history-\(recorder.number)" }
}

/// Operation values between Lua and Core: nil and `json.null` are none; booleans, integers,
/// floats and strings are themselves; a table with keys 1..n is a list, one with string keys a map.
enum OperationValues {
    static let maxDepth = 32

    static func process(at index: Int32, _ ctx: LuaCallContext) throws -> ClientOperation.Process {
        switch ctx.type(at: index) {
        case .number: return .client(try ctx.integer(index))
        case .string: return .named(try ctx.string(index))
        default: throw LuaArgumentError(index, detail: "process must be an integer or a name, got \(ctx.typeName(at: index))")
        }
    }

    static func read(at index: Int32, on L: LuaState, depth: Int = 0) throws -> OperationValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .none
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            var isNumber: Int32 = 0
            if lua_isinteger(L, index) != 0 { return .integer(Int64(ccm_tointeger(L, index, &isNumber))) }
            return .double(ccm_tonumber(L, index, &isNumber))
        case LUA_TSTRING: return .string(LuaStack.string(at: index, on: L) ?? "")
        case LUA_TTABLE:
            if isJSONNull(at: index, on: L) { return .none }
            guard depth < maxDepth else { throw LuaError(kind: "usage", "an operation's value nests deeper than \(maxDepth) tables (a table that contains itself?)") }
            return try readTable(at: lua_absindex(L, index), on: L, depth: depth)
        default:
            throw LuaError(kind: "usage", "an operation's value cannot be a \(String(cString: lua_typename(L, lua_type(L, index)))): use nil, booleans, numbers, strings and tables of them")
        }
    }

    private static func readTable(at table: Int32, on L: LuaState, depth: Int) throws -> OperationValue {
        var numbered: [Int: OperationValue] = [:]
        var named: [String: OperationValue] = [:]
        lua_checkstack(L, 4)
        lua_pushnil(L)
        while true {
            let step = ccm_next(L, table)
            if step == 0 { break }
            if step < 0 { ccm_pop(L, 1); throw LuaError(kind: "usage", "an operation's value changed while it was read") }
            let value: OperationValue
            do { value = try read(at: -1, on: L, depth: depth + 1) } catch { ccm_pop(L, 2); throw error }
            ccm_pop(L, 1)
            if lua_isinteger(L, -1) != 0 {
                var ok: Int32 = 0
                numbered[Int(ccm_tointeger(L, -1, &ok))] = value
            } else if lua_type(L, -1) == LUA_TSTRING {
                named[LuaStack.string(at: -1, on: L) ?? ""] = value
            } else {
                ccm_pop(L, 1)
                throw LuaError(kind: "usage", "an operation's value has a table key that is neither a string nor a list position")
            }
        }
        if named.isEmpty {
            guard numbered.isEmpty || (numbered.keys.min() == 1 && numbered.keys.max() == numbered.count) else {
                throw LuaError(kind: "usage", "an operation's value is a list with holes: use json.null for a missing item")
            }
            return .list((0..<numbered.count).map { numbered[$0 + 1]! })
        }
        guard numbered.isEmpty else { throw LuaError(kind: "usage", "an operation's value mixes list items and named fields") }
        return .map(named)
    }

    /// `json.null` is a table whose metatable is named "json.null".
    private static func isJSONNull(at index: Int32, on L: LuaState) -> Bool {
        guard lua_getmetatable(L, index) != 0 else { return false }
        LuaStack.push("__name", on: L)
        lua_rawget(L, -2)
        defer { ccm_pop(L, 2) }
        return LuaStack.string(at: -1, on: L) == "json.null"
    }

    static func push(_ value: OperationValue, on L: LuaState) {
        lua_checkstack(L, 4)
        switch value {
        case .none: lua_pushnil(L)
        case .bool(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(L, lua_Integer(i))
        case .double(let d): lua_pushnumber(L, d)
        case .string(let s): LuaStack.push(s, on: L)
        case .list(let items):
            lua_createtable(L, Int32(clamping: items.count), 0)
            for (i, item) in items.enumerated() {
                push(item, on: L)
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
        case .map(let entries):
            lua_createtable(L, 0, Int32(clamping: entries.count))
            for (key, item) in entries {
                LuaStack.push(key, on: L)
                push(item, on: L)
                lua_rawset(L, -3)
            }
        }
    }

    /// An operation as scripts see it: `{index =, type =, process =, f =, key =, value =, time =, error =}`.
    static func push(_ op: ClientOperation, on L: LuaState) {
        lua_checkstack(L, 4)
        lua_createtable(L, 0, 8)
        lua_pushinteger(L, lua_Integer(op.index)); LuaStack.setField("index", on: L)
        LuaStack.push(op.kind.rawValue, on: L); LuaStack.setField("type", on: L)
        switch op.process {
        case .client(let p): lua_pushinteger(L, lua_Integer(p))
        case .named(let name): LuaStack.push(name, on: L)
        }
        LuaStack.setField("process", on: L)
        LuaStack.push(op.f, on: L); LuaStack.setField("f", on: L)
        if let key = op.key { LuaStack.push(key, on: L); LuaStack.setField("key", on: L) }
        push(op.value, on: L); LuaStack.setField("value", on: L)
        if let time = op.time { lua_pushinteger(L, lua_Integer(Int64(bitPattern: time))); LuaStack.setField("time", on: L) }
        if let error = op.error { LuaStack.push(error, on: L); LuaStack.setField("error", on: L) }
    }

    static func push(_ ops: [ClientOperation], on L: LuaState) {
        lua_checkstack(L, 4)
        lua_createtable(L, Int32(clamping: ops.count), 0)
        for (i, op) in ops.enumerated() {
            push(op, on: L)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
    }
}
