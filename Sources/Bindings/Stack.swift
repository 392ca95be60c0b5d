import CLua
import CLuaShim

/// Small stack operations shared by the call context, the VM and the scheduler. Each one uses
/// only API functions that cannot raise (`-`/`m`).
enum LuaStack {
    static var registry: Int32 { ccm_registryindex() }

    /// t[key] = v for the table at -2 and the value on top (pops the value), without metamethods.
    static func setField(_ key: String, on L: LuaState) {
        push(key, on: L)
        ccm_insert(L, -2)
        lua_rawset(L, -3)
    }

    static func push(_ string: String, on L: LuaState) {
        var copy = string
        copy.withUTF8 { buffer in
            _ = buffer.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }

    static func push(bytes: [UInt8], on L: LuaState) {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }

    /// The string at `index`, or nil when it is neither a string nor a number.
    static func string(at index: Int32, on L: LuaState) -> String? {
        let kind = lua_type(L, index)
        guard kind == LUA_TSTRING || kind == LUA_TNUMBER else { return nil }
        // Convert a copy: lua_tolstring turns a number into a string in place.
        lua_pushvalue(L, index)
        defer { ccm_pop(L, 1) }
        var length = 0
        guard let pointer = lua_tolstring(L, -1, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// `tostring(v)` as Lua prints it (honours `__tostring`); never raises: a failing
    /// `__tostring` yields a description of that failure instead.
    static func describe(at index: Int32, on L: LuaState) -> String {
        var pointer: UnsafePointer<CChar>? = nil
        var length = 0
        let status = ccm_tolstring(L, index, &pointer, &length)
        defer { ccm_pop(L, 1) }
        let text = pointer.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) }
        if status == LUA_OK { return text ?? "?" }
        return "(error object's __tostring failed: \(text ?? "?"))"
    }

    static func push(_ value: LuaValue, on L: LuaState) {
        switch value {
        case .nil: lua_pushnil(L)
        case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(L, lua_Integer(i))
        case .number(let d): lua_pushnumber(L, d)
        case .string(let s): push(s, on: L)
        case .bytes(let b): push(bytes: b, on: L)
        case .array(let items):
            lua_checkstack(L, 3)
            lua_createtable(L, Int32(clamping: items.count), 0)
            for (offset, item) in items.enumerated() {
                push(item, on: L)
                lua_rawseti(L, -2, lua_Integer(offset + 1))
            }
        case .table(let fields):
            lua_checkstack(L, 3)
            lua_createtable(L, 0, Int32(clamping: fields.count))
            for (key, item) in fields.sorted(by: { $0.key < $1.key }) {
                push(key, on: L)
                push(item, on: L)
                lua_rawset(L, -3)
            }
        }
    }

    /// Reads a table of string -> string (numbers converted). `bad` builds the error for a key
    /// or value of another type.
    static func stringMap(at index: Int32, on L: LuaState, bad: (String) -> any Error) throws -> [String: String] {
        let table = lua_absindex(L, index)
        var result: [String: String] = [:]
        lua_checkstack(L, 4)
        lua_pushnil(L)
        while true {
            let step = ccm_next(L, table)
            if step == 0 { break }
            if step < 0 { ccm_pop(L, 1); throw bad("a key that changed during traversal") }
            // Copies, so converting a number in place cannot confuse the traversal.
            lua_pushvalue(L, -2)
            lua_pushvalue(L, -2)
            let key = lua_type(L, -2) == LUA_TSTRING ? string(at: -2, on: L) : nil
            let value = string(at: -1, on: L)
            ccm_pop(L, 3)  // the copies and the value; the key stays for the next step
            guard let key, let value else { ccm_pop(L, 1); throw bad(key ?? "a non-string key") }
            result[key] = value
        }
        return result
    }
}
