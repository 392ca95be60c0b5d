import CLua
import CLuaShim

/// How an uncaught error reads on the terminal, like lua.c's: "ccm-lua: file.lua:3: message",
/// the extra fields of an error value, then the Lua traceback.
enum ErrorReport {
    /// The error value is on top of `thread` (a coroutine that died with it).
    static func uncaught(on thread: LuaState, main: LuaState, fullTraceback: Bool = false) -> String {
        // A coroutine that died of an error can make no more calls, and `__tostring` is one: the
        // value is described on the main thread.
        lua_checkstack(main, 4)
        lua_pushvalue(thread, -1)
        lua_xmove(thread, main, 1)
        defer { ccm_pop(main, 1) }
        var text = "ccm-lua: " + message(at: -1, on: main, raisedIn: thread)
        if lua_type(main, -1) == LUA_TTABLE {
            for (field, label) in [("cmd", "command"), ("code", "exit code"), ("node", "node"),
                                   ("step", "step"), ("stderr", "stderr")] {
                LuaStack.push(field, on: main)
                lua_rawget(main, -2)
                if let value = LuaStack.string(at: -1, on: main), !value.isEmpty {
                    let lines = value.split(separator: "\n", omittingEmptySubsequences: false).prefix(20)
                    text += "\n  \(label): " + lines.joined(separator: "\n    ")
                }
                ccm_pop(main, 1)
            }
        }
        luaL_traceback(main, thread, nil, 0)
        let traceback = LuaStack.string(at: -1, on: main) ?? ""
        ccm_pop(main, 1)
        return text + "\n" + (fullTraceback ? traceback : userFrames(of: traceback))
    }

    /// The traceback without the built-in library's frames (`builtin/ccm/...`), nor the C
    /// functions they called, so it reads as the script's own calls; a last line says how many
    /// frames were hidden and how to see them.
    static func userFrames(of traceback: String) -> String {
        var lines = traceback.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let header = lines.first else { return traceback }
        lines.removeFirst()
        func isBuiltin(_ line: String) -> Bool { line.hasPrefix("\tbuiltin/") }
        func isC(_ line: String) -> Bool { line.hasPrefix("\t[C]: ") }
        var kept: [String] = [], hidden = 0
        for (index, line) in lines.enumerated() {
            // A C function called by the library (error, pcall) goes with its caller, the next line.
            let calledByBuiltin = isC(line) && lines[(index + 1)...].first { !isC($0) }.map(isBuiltin) == true
            if isBuiltin(line) || calledByBuiltin { hidden += 1 } else { kept.append(line) }
        }
        if hidden > 0 {
            kept.append("\t(\(hidden) frame\(hidden == 1 ? "" : "s") of the built-in library hidden; CCM_LUA_DEBUG=1 shows them)")
        }
        return ([header] + kept).joined(separator: "\n")
    }

    /// The text of an error value: strings and numbers as they are, `__tostring` when there is
    /// one, else "(error object is a table value)" with the position of the raising call in
    /// `thread` (its stack can still be read after it died).
    static func message(at index: Int32, on L: LuaState, raisedIn thread: LuaState) -> String {
        let kind = lua_type(L, index)
        if kind == LUA_TSTRING || kind == LUA_TNUMBER { return LuaStack.string(at: index, on: L) ?? "?" }
        if luaL_getmetafield(L, index, "__tostring") != LUA_TNIL {
            ccm_pop(L, 1)
            return LuaStack.describe(at: index, on: L)
        }
        let typeName = String(cString: lua_typename(L, lua_type(L, index)))
        // Level 1 of the dead coroutine is the function that called error().
        return ErrorValues.position(on: thread, level: 1) + "(error object is a \(typeName) value)"
    }
}
