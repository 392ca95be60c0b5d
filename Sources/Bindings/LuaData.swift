import CLua
import CLuaShim
import Core

/// Lua tables as Core's `ConfigValue` trees and back: specs, plans and configurations cross the
/// boundary this way. A table whose keys are exactly 1...n is a list; any other table is a map,
/// its keys sorted so generated files are the same on every run. `json.null` means "remove".
enum LuaData {
    static let maxDepth = 64

    static func read(at index: Int32, on L: LuaState, path: String = "value", depth: Int = 0) throws -> ConfigValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .null
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            var isInteger: Int32 = 0
            let integer = ccm_tointeger(L, index, &isInteger)
            if lua_isinteger(L, index) != 0, isInteger != 0 { return .int(Int64(integer)) }
            var isNumber: Int32 = 0
            return .double(ccm_tonumber(L, index, &isNumber))
        case LUA_TSTRING: return .string(LuaStack.string(at: index, on: L) ?? "")
        case LUA_TTABLE:
            if isJSONNull(at: index, on: L) { return .remove }
            guard depth < maxDepth else {
                throw LuaError(kind: "config", "\(path) nests deeper than \(maxDepth) tables (a table that contains itself?)")
            }
            return try readTable(at: lua_absindex(L, index), on: L, path: path, depth: depth)
        default:
            throw LuaError(kind: "config", "\(path) is a \(String(cString: lua_typename(L, lua_type(L, index)))); only strings, numbers, booleans and tables can be used here")
        }
    }

    private static func readTable(at table: Int32, on L: LuaState, path: String, depth: Int) throws -> ConfigValue {
        var numbered: [Int: ConfigValue] = [:]
        var named: [(key: String, value: ConfigValue)] = []
        lua_checkstack(L, 4)
        lua_pushnil(L)
        while true {
            let step = ccm_next(L, table)
            if step == 0 { break }
            if step < 0 { ccm_pop(L, 1); throw LuaError(kind: "config", "\(path) changed while it was being read") }
            var isInteger: Int32 = 0
            let number = lua_type(L, -2) == LUA_TNUMBER ? ccm_tointeger(L, -2, &isInteger) : 0
            let key: String
            if isInteger != 0 {
                key = String(number)
            } else if lua_type(L, -2) == LUA_TSTRING {
                lua_pushvalue(L, -2)  // a copy, so reading it cannot disturb the traversal
                key = LuaStack.string(at: -1, on: L) ?? ""
                ccm_pop(L, 1)
            } else {
                let keyType = String(cString: lua_typename(L, lua_type(L, -2)))
                ccm_pop(L, 2)
                throw LuaError(kind: "config", "\(path) has a key of type \(keyType); use strings or list positions")
            }
            let value: ConfigValue
            do { value = try read(at: -1, on: L, path: "\(path).\(key)", depth: depth + 1) } catch { ccm_pop(L, 2); throw error }
            ccm_pop(L, 1)
            if isInteger != 0 { numbered[Int(number)] = value } else { named.append((key, value)) }
        }
        if named.isEmpty, !numbered.isEmpty, numbered.keys.min() == 1, numbered.keys.max() == numbered.count {
            return .list((1...numbered.count).map { numbered[$0]! })
        }
        named += numbered.map { (String($0.key), $0.value) }
        return .map(named.sorted { $0.key < $1.key })
    }

    /// `json.null` is a table whose metatable is named "json.null".
    private static func isJSONNull(at index: Int32, on L: LuaState) -> Bool {
        guard lua_getmetatable(L, index) != 0 else { return false }
        LuaStack.push("__name", on: L)
        lua_rawget(L, -2)
        defer { ccm_pop(L, 2) }
        return LuaStack.string(at: -1, on: L) == "json.null"
    }

    static func push(_ value: ConfigValue, on L: LuaState) {
        lua_checkstack(L, 4)
        switch value {
        case .null, .remove: lua_pushnil(L)
        case .bool(let b): lua_pushboolean(L, b ? 1 : 0)
        case .int(let i): lua_pushinteger(L, lua_Integer(i))
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
}
