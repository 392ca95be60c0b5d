import CLua
import CLuaShim

/// The view a binding has of one call: its arguments, a place to push results, and `suspend`.
///
/// Everything here calls only Lua API functions that cannot raise (`-`/`m` in the manual), so a
/// binding can use it freely; argument problems are thrown as `LuaArgumentError` and become the
/// standard "bad argument #1 to 'sleep' (number expected, got string)" error value.
public struct LuaCallContext {
    public let state: LuaState
    unowned(unsafe) let vm: LuaVM
    /// Names the function in argument errors when the call site does not (a local alias, say).
    let functionName: String

    init(_ state: LuaState, vm: LuaVM, functionName: String) {
        self.state = state; self.vm = vm; self.functionName = functionName
    }

    // MARK: Arguments

    public var argumentCount: Int32 { lua_gettop(state) }

    public func type(at index: Int32) -> LuaType { LuaType(rawValue: lua_type(state, index)) ?? .none }

    public func isNoneOrNil(_ index: Int32) -> Bool { ccm_isnoneornil(state, index) != 0 }

    public func number(_ index: Int32) throws -> Double {
        var isNumber: Int32 = 0
        let value = ccm_tonumber(state, index, &isNumber)
        guard isNumber != 0 else { throw LuaArgumentError(index, expected: "number") }
        return value
    }

    public func optionalNumber(_ index: Int32) throws -> Double? {
        isNoneOrNil(index) ? nil : try number(index)
    }

    public func integer(_ index: Int32) throws -> Int {
        var isInteger: Int32 = 0
        let value = ccm_tointeger(state, index, &isInteger)
        guard isInteger != 0 else {
            if lua_type(state, index) == LUA_TNUMBER {
                throw LuaArgumentError(index, detail: "number has no integer representation")
            }
            throw LuaArgumentError(index, expected: "number")
        }
        return Int(value)
    }

    public func optionalInteger(_ index: Int32) throws -> Int? {
        isNoneOrNil(index) ? nil : try integer(index)
    }

    /// A string argument (numbers are accepted and converted, as `luaL_checkstring` does).
    public func string(_ index: Int32) throws -> String {
        String(decoding: try bytes(index), as: UTF8.self)
    }

    public func optionalString(_ index: Int32) throws -> String? {
        isNoneOrNil(index) ? nil : try string(index)
    }

    /// A string argument as raw bytes (Lua strings may hold any byte).
    public func bytes(_ index: Int32) throws -> [UInt8] {
        let kind = lua_type(state, index)
        guard kind == LUA_TSTRING || kind == LUA_TNUMBER else { throw LuaArgumentError(index, expected: "string") }
        var length = 0
        let pointer = lua_tolstring(state, index, &length)!
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    /// Lua truthiness: everything but `nil` and `false` is true.
    public func truthy(_ index: Int32) -> Bool { lua_toboolean(state, index) != 0 }

    public func optionalBoolean(_ index: Int32) throws -> Bool? {
        if isNoneOrNil(index) { return nil }
        guard ccm_isboolean(state, index) != 0 else { throw LuaArgumentError(index, expected: "boolean") }
        return lua_toboolean(state, index) != 0
    }

    public func checkFunction(_ index: Int32) throws {
        guard ccm_isfunction(state, index) != 0 else { throw LuaArgumentError(index, expected: "function") }
    }

    public func checkTable(_ index: Int32) throws {
        guard ccm_istable(state, index) != 0 else { throw LuaArgumentError(index, expected: "table") }
    }

    /// An options table (`{timeout = 5}`) or nil; fields are read raw, with typed accessors.
    public func options(_ index: Int32) throws -> LuaOptions? {
        if isNoneOrNil(index) { return nil }
        guard ccm_istable(state, index) != 0 else { throw LuaArgumentError(index, expected: "table") }
        return LuaOptions(context: self, index: lua_absindex(state, index))
    }

    /// A list of strings such as an argv table `{"ls", "-l"}`.
    public func stringList(_ index: Int32) throws -> [String] {
        try checkTable(index)
        let table = lua_absindex(state, index)
        let count = lua_rawlen(state, table)
        var items: [String] = []
        items.reserveCapacity(Int(count))
        for position in 0..<count {
            lua_rawgeti(state, table, lua_Integer(position + 1))
            defer { ccm_pop(state, 1) }
            let kind = lua_type(state, -1)
            guard kind == LUA_TSTRING || kind == LUA_TNUMBER else {
                throw LuaArgumentError(index, detail: "item \(position + 1) must be a string, got \(typeName(at: -1))")
            }
            var length = 0
            let pointer = lua_tolstring(state, -1, &length)!
            items.append(String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self))
        }
        return items
    }

    /// The Swift object inside a userdata argument of type `T`.
    public func object<T: LuaObject>(_ index: Int32, as type: T.Type = T.self) throws -> T {
        try vm.objects.object(at: index, in: state, as: type)
    }

    /// `luaL_typename`, for messages.
    public func typeName(at index: Int32) -> String { String(cString: lua_typename(state, lua_type(state, index))) }

    // MARK: Results

    public func pushNil() { lua_pushnil(state) }
    public func push(_ value: Bool) { lua_pushboolean(state, value ? 1 : 0) }
    public func push(_ value: Int) { lua_pushinteger(state, lua_Integer(value)) }
    public func push(_ value: Double) { lua_pushnumber(state, value) }
    public func push(_ value: String) { LuaStack.push(value, on: state) }
    public func push(bytes: [UInt8]) { LuaStack.push(bytes: bytes, on: state) }
    public func push(_ value: LuaValue) { LuaStack.push(value, on: state) }
    /// Wraps `object` in a userdata of its registered type (the userdata retains it).
    public func push<T: LuaObject>(_ object: T) { vm.objects.push(object, on: state) }
    /// Pushes a copy of the value at `index` (to return an argument, say).
    public func pushCopy(of index: Int32) { lua_pushvalue(state, index) }

    // MARK: Suspending

    /// Runs `work` as a Swift Task and suspends the calling coroutine until it finishes; then
    /// `resume` runs on the Lua thread to push the results. If `work` throws, the caller gets the
    /// error as a Lua error value. Where the coroutine cannot yield (inside a metamethod, say),
    /// this waits in place instead; the script sees no difference.
    ///
    /// `work` may capture only Sendable values: copy what it needs out of Lua first.
    public func suspend<T: Sendable>(
        _ work: @escaping @Sendable () async throws -> T,
        then resume: @escaping (LuaCallContext, T) throws -> LuaReturn
    ) -> LuaReturn {
        vm.scheduler.suspend(self, work: work, resume: resume)
    }

    /// `suspend` for work with no results.
    public func suspend(_ work: @escaping @Sendable () async throws -> Void) -> LuaReturn {
        suspend(work, then: { _, _ in 0 })
    }

    /// The cleanup registry of this script run (see `CleanupRegistry`).
    public var cleanup: CleanupRegistry { vm.cleanup }
}

/// Lua's basic types (`lua_type`).
public enum LuaType: Int32, Sendable {
    case none = -1, `nil` = 0, boolean, lightUserdata, number, string, table, function, userdata, thread
}

/// An options table argument. Missing fields and `nil` read as nil; a wrong type is an error
/// that names the field: "bad argument #2 to 'host' (field 'timeout': number expected, got string)".
public struct LuaOptions {
    let context: LuaCallContext
    let index: Int32
    private var state: LuaState { context.state }

    /// Pushes `t[key]` (raw) and runs `read` on it.
    private func field<T>(_ key: String, _ read: () throws -> T?) rethrows -> T? {
        LuaStack.push(key, on: state)
        lua_rawget(state, index)
        defer { ccm_pop(state, 1) }
        if ccm_isnil(state, -1) != 0 { return nil }
        return try read()
    }

    private func mismatch(_ key: String, _ expected: String) -> LuaArgumentError {
        LuaArgumentError(index, detail: "field '\(key)': \(expected) expected, got \(context.typeName(at: -1))")
    }

    public func number(_ key: String) throws -> Double? {
        try field(key) {
            var isNumber: Int32 = 0
            let value = ccm_tonumber(state, -1, &isNumber)
            guard isNumber != 0 else { throw mismatch(key, "number") }
            return value
        }
    }

    public func integer(_ key: String) throws -> Int? {
        try field(key) {
            var isInteger: Int32 = 0
            let value = ccm_tointeger(state, -1, &isInteger)
            guard isInteger != 0 else { throw mismatch(key, "integer") }
            return Int(value)
        }
    }

    public func boolean(_ key: String) throws -> Bool? {
        try field(key) {
            guard ccm_isboolean(state, -1) != 0 else { throw mismatch(key, "boolean") }
            return lua_toboolean(state, -1) != 0
        }
    }

    public func bytes(_ key: String) throws -> [UInt8]? {
        try field(key) {
            let kind = lua_type(state, -1)
            guard kind == LUA_TSTRING || kind == LUA_TNUMBER else { throw mismatch(key, "string") }
            var length = 0
            let pointer = lua_tolstring(state, -1, &length)!
            return Array(UnsafeRawBufferPointer(start: pointer, count: length))
        }
    }

    public func string(_ key: String) throws -> String? {
        try bytes(key).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A table of string keys to string (or number) values, such as `env`.
    public func stringMap(_ key: String) throws -> [String: String]? {
        try field(key) {
            guard ccm_istable(state, -1) != 0 else { throw mismatch(key, "table") }
            return try LuaStack.stringMap(at: -1, on: state) { badKey in
                LuaArgumentError(index, detail: "field '\(key)': keys and values must be strings (at \(badKey))")
            }
        }
    }
}
