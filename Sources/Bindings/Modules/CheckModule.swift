import CLua
import CLuaShim
import Core
import Foundation

/// `ccm.check.native`: the Swift half of `require "ccm.check"` (lua/ccm/check.lua). Options are
/// checked in Lua; the search is Core's `Linearizability`.
enum CheckModule {
    static let models: [String: LinearizabilityModel] = [
        "register": .register, "cas-register": .casRegister, "set": .set, "kv": .kv, "etcd": .etcd,
    ]

    static var module: LuaModule {
        var module = LuaModule("ccm.check.native")
        // linearizable(handle, model name | nil, init, step, time_limit) -> {valid =, keys = {...}}
        module.function("linearizable") { ctx in
            let recorder = try ctx.object(1, as: HistoryHandle.self).recorder
            let limit = try ctx.optionalNumber(5) ?? Defaults.checkTimeLimit
            let model: LinearizabilityModel
            let modelName: String
            var luaModel: LuaModel?
            if let name = try ctx.optionalString(2) {
                guard let known = models[name] else { throw LuaArgumentError(2, detail: "unknown model '\(name)'") }
                model = known
                modelName = name
            } else {
                try ctx.checkFunction(4)
                let custom = LuaModel(state: ctx.state, initial: try OperationValues.read(at: 3, on: ctx.state), stepAt: 4)
                luaModel = custom
                model = .custom(custom)
                modelName = "Lua model"
            }
            // The checker reads client operations only: the nemesis's are for people and Jepsen's tools.
            let history = OperationHistory(recorder.history.operations.filter { if case .client = $0.process { true } else { false } })
            let result: LinearizabilityResult
            do {
                result = try Linearizability.check(history, model: model, timeLimit: limit)
            } catch {
                luaModel?.release()
                if let failure = luaModel?.failure { throw failure }
                throw LuaError(kind: "error", "the linearizability check failed: \(error)")
            }
            luaModel?.release()
            if let failure = luaModel?.failure { throw failure }
            recorder.publish(verdict: WorkloadVerdict(model: modelName, result: result))
            push(result, on: ctx.state)
            return 1
        }
        return module
    }

    static func push(_ result: LinearizabilityResult, on L: LuaState) {
        func pushValidity(_ v: LinearizabilityResult.Validity) {
            switch v {
            case .valid: lua_pushboolean(L, 1)
            case .invalid: lua_pushboolean(L, 0)
            case .unknown: LuaStack.push("unknown", on: L)
            }
        }
        lua_checkstack(L, 6)
        lua_createtable(L, 0, 2)
        pushValidity(result.valid); LuaStack.setField("valid", on: L)
        lua_createtable(L, 0, Int32(clamping: result.keys.count))
        for (key, keyResult) in result.keys {
            LuaStack.push(key, on: L)
            lua_createtable(L, 0, 3)
            pushValidity(keyResult.valid); LuaStack.setField("valid", on: L)
            OperationValues.push(keyResult.linearized, on: L); LuaStack.setField("linearized", on: L)
            if let failed = keyResult.failedOperation { OperationValues.push(failed, on: L); LuaStack.setField("failed", on: L) }
            lua_rawset(L, -3)
        }
        LuaStack.setField("keys", on: L)
    }
}

/// A model written in Lua, `{init = value, step = function(state, op) return ok, new_state end}`,
/// as Core's `SequentialModel`. The checker runs on the Lua thread, in the call of
/// `check.linearizable`, and each step is a `lua_pcall`: an error or a yield inside `step` comes
/// back as a status, never as a longjmp through the checker's Swift frames. The first failure
/// stops the search and is raised once the check has returned.
final class LuaModel: SequentialModel, @unchecked Sendable {
    let initialState: OperationValue
    private let state: LuaState
    private var stepReference: Int32
    private let thread = pthread_self()
    private(set) var failure: LuaError?

    /// Why the search stopped (its text is not what the script sees: `failure` is).
    struct Stopped: Error {}

    init(state: LuaState, initial: OperationValue, stepAt index: Int32) {
        self.state = state
        initialState = initial
        lua_pushvalue(state, index)
        stepReference = luaL_ref(state, LuaStack.registry)
    }

    func release() {
        if stepReference != LUA_NOREF { luaL_unref(state, LuaStack.registry, stepReference) }
        stepReference = LUA_NOREF
    }

    func step(_ current: OperationValue, invocation: ClientOperation, completion: ClientOperation?) throws -> OperationValue? {
        guard failure == nil else { throw Stopped() }
        guard pthread_equal(thread, pthread_self()) != 0, stepReference != LUA_NOREF else {
            failure = LuaError(kind: "error", "a Lua model's step can only run on the script's thread, during check.linearizable")
            throw Stopped()
        }
        let L = state
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        lua_checkstack(L, 8)
        lua_rawgeti(L, LuaStack.registry, lua_Integer(stepReference))
        OperationValues.push(current, on: L)
        // What step sees: the invocation's f, key and value, and the completion's value as
        // `output` (nil with type "info" when the outcome is unknown).
        lua_createtable(L, 0, 6)
        LuaStack.push(invocation.f, on: L); LuaStack.setField("f", on: L)
        if let key = invocation.key { LuaStack.push(key, on: L); LuaStack.setField("key", on: L) }
        OperationValues.push(invocation.value, on: L); LuaStack.setField("value", on: L)
        LuaStack.push(completion.map { $0.kind.rawValue } ?? "info", on: L); LuaStack.setField("type", on: L)
        if let completion, completion.kind == .ok { OperationValues.push(completion.value, on: L); LuaStack.setField("output", on: L) }
        switch invocation.process {
        case .client(let p): lua_pushinteger(L, lua_Integer(p))
        case .named(let name): LuaStack.push(name, on: L)
        }
        LuaStack.setField("process", on: L)
        let status = ccm_pcall(L, 2, 2, 0)
        guard status == LUA_OK else {
            failure = Self.error(from: L, describing: invocation)
            throw Stopped()
        }
        guard lua_type(L, -2) == LUA_TBOOLEAN else {
            failure = LuaError(kind: "usage", "the model's step must return a boolean (can the operation happen?) and the new state, got \(String(cString: lua_typename(L, lua_type(L, -2)))) for \(invocation.f) by process \(invocation.process.text)")
            throw Stopped()
        }
        guard lua_toboolean(L, -2) != 0 else { return nil }
        if lua_type(L, -1) == LUA_TNIL { return current }
        do { return try OperationValues.read(at: -1, on: L) } catch let e as LuaError {
            failure = LuaError(kind: "usage", "the model's step returned a state that is not a value: \(e.message)")
            throw Stopped()
        }
    }

    /// The error value of a failed step, as a LuaError: its kind and message when it is one of
    /// ours, else kind "error" with its text.
    private static func error(from L: LuaState, describing op: ClientOperation) -> LuaError {
        // Ctrl-C raised "interrupted!" inside step: the script sees an interrupt, as anywhere else.
        if ccm_interrupted() != 0 { return LuaError(kind: "interrupted", "interrupted!") }
        var kind = "error"
        var message = LuaStack.describe(at: -1, on: L)
        if lua_type(L, -1) == LUA_TTABLE {
            LuaStack.push("kind", on: L); lua_rawget(L, -2)
            if let k = LuaStack.string(at: -1, on: L) { kind = k }
            ccm_pop(L, 1)
            LuaStack.push("message", on: L); lua_rawget(L, -2)
            if let m = LuaStack.string(at: -1, on: L) {
                LuaStack.push("where", on: L); lua_rawget(L, -3)
                message = (LuaStack.string(at: -1, on: L) ?? "") + m
                ccm_pop(L, 1)
            }
            ccm_pop(L, 1)
        }
        return LuaError(kind: kind, "the model's step failed on \(op.f) by process \(op.process.text): \(message)")
    }
}
