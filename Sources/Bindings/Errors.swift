import CLua
import CLuaShim
import Core
import Foundation

/// A failure as scripts see it: a table `{message=, kind=, node=, cmd=, code=, stderr=}` whose
/// `__tostring` reads "file.lua:LINE: message". Bindings throw it directly, or throw any error
/// that conforms to `LuaErrorConvertible`.
public struct LuaError: Error, Sendable, Equatable {
    /// "timeout", "exec", "runtime", "image", "config", "usage", "unsupported", "interrupted", ...
    public var kind: String
    public var message: String
    public var node: String?
    public var cmd: String?
    public var code: Int?
    public var stderr: String?

    public init(kind: String, _ message: String, node: String? = nil, cmd: String? = nil,
                code: Int? = nil, stderr: String? = nil) {
        self.kind = kind; self.message = message; self.node = node; self.cmd = cmd
        self.code = code; self.stderr = stderr
    }
}

/// Lets a Core error choose its Lua `kind` and fields; conform Core error types in Bindings.
public protocol LuaErrorConvertible: Error {
    var luaError: LuaError { get }
}

extension LuaError: LuaErrorConvertible {
    public var luaError: LuaError { self }
}

extension RuntimeError: LuaErrorConvertible {
    public var luaError: LuaError {
        let err = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        let advice = hint.flatMap { summary.contains($0) ? nil : " (hint: \($0))" } ?? ""
        return LuaError(kind: scriptKind, summary + advice,
                        cmd: command.isEmpty ? nil : command.map(shellQuoted).joined(separator: " "),
                        code: exitCode.map(Int.init), stderr: err.isEmpty ? nil : stderr)
    }
}

/// An argument a binding could not use. Turned into luaL_argerror's wording by `ErrorValues`,
/// which can name the function because it runs while the binding's frame is still current.
public struct LuaArgumentError: Error, Sendable {
    public var argument: Int32
    /// "number": the message becomes "number expected, got string".
    public var expected: String?
    /// Free text, e.g. "field 'timeout': number expected, got string".
    public var detail: String?

    public init(_ argument: Int32, expected: String) { self.argument = argument; self.expected = expected }
    public init(_ argument: Int32, detail: String) { self.argument = argument; self.detail = detail }
}

/// A Lua value already raised (a failed `parallel` branch's error), kept in the registry until it
/// is raised again in the parent.
struct RaisedLuaValue: Error, @unchecked Sendable {
    let reference: Int32
}

/// Builds error values with the one shared metatable.
final class ErrorValues {
    /// Where a binding's error points: its Lua caller, a position captured earlier, or nowhere.
    enum Position {
        case caller
        case text(String)
    }

    private let metatable: Int32

    init(main L: LuaState) {
        lua_createtable(L, 0, 2)
        ccm_pushcfunction(L, ccm_error_tostring)
        LuaStack.setField("__tostring", on: L)
        LuaStack.push("ccm.error", on: L)
        LuaStack.setField("__name", on: L)
        metatable = luaL_ref(L, LuaStack.registry)
    }

    /// "file.lua:12: " for the Lua function `level` frames up (1 = the caller of a binding), or
    /// further up when that one is part of the built-in library: errors point at the user's code.
    static func position(on L: LuaState, level: Int32 = 1) -> String {
        ccm_where_user(L, level)
        defer { ccm_pop(L, 1) }
        return LuaStack.string(at: -1, on: L) ?? ""
    }

    func pushMetatable(on L: LuaState) { lua_rawgeti(L, LuaStack.registry, lua_Integer(metatable)) }

    /// Pushes the error value for `error` onto `L`.
    func push(_ error: any Error, on L: LuaState, where position: Position, function: String? = nil) {
        lua_checkstack(L, 6)
        if let raised = error as? RaisedLuaValue {
            lua_rawgeti(L, LuaStack.registry, lua_Integer(raised.reference))
            luaL_unref(L, LuaStack.registry, raised.reference)
            pointAtCallerIfNowhere(on: L)
            return
        }
        let whereText: String
        switch position {
        case .caller: whereText = Self.position(on: L)
        case .text(let text): whereText = text
        }
        push(Self.describe(error, on: L, function: function), on: L, where: whereText)
    }

    /// An error value from a `parallel` branch whose own stack held no user code (a branch the
    /// built-in library made) points nowhere; re-raised here, it points at the caller instead.
    private func pointAtCallerIfNowhere(on L: LuaState) {
        guard lua_type(L, -1) == LUA_TTABLE, lua_getmetatable(L, -1) != 0 else { return }
        pushMetatable(on: L)
        let ours = lua_rawequal(L, -1, -2) != 0
        ccm_pop(L, 2)
        guard ours else { return }
        LuaStack.push("where", on: L)
        lua_rawget(L, -2)
        let nowhere = (LuaStack.string(at: -1, on: L) ?? "").isEmpty
        ccm_pop(L, 1)
        guard nowhere else { return }
        LuaStack.push("where", on: L)
        LuaStack.push(Self.position(on: L), on: L)
        lua_rawset(L, -3)
    }

    /// Pushes a table for `info` with the shared metatable.
    func push(_ info: LuaError, on L: LuaState, where whereText: String) {
        var fields: [String: LuaValue] = ["kind": .string(info.kind), "message": .string(info.message),
                                          "where": .string(whereText)]
        if let node = info.node { fields["node"] = .string(node) }
        if let cmd = info.cmd { fields["cmd"] = .string(cmd) }
        if let code = info.code { fields["code"] = .integer(code) }
        if let stderr = info.stderr { fields["stderr"] = .string(stderr) }
        LuaStack.push(.table(fields), on: L)
        pushMetatable(on: L)
        lua_setmetatable(L, -2)
    }

    /// Maps any Swift error to what a script sees.
    static func describe(_ error: any Error, on L: LuaState, function: String? = nil) -> LuaError {
        switch error {
        case let argument as LuaArgumentError:
            if let expected = argument.expected {
                ccm_pushtypeerror(L, argument.argument, expected, function)
            } else {
                ccm_pushargerror(L, argument.argument, argument.detail ?? "invalid value", function)
            }
            defer { ccm_pop(L, 1) }
            return LuaError(kind: "usage", LuaStack.string(at: -1, on: L) ?? "bad argument")
        case let convertible as LuaErrorConvertible:
            return convertible.luaError
        case is CancellationError:
            return ccm_interrupted() != 0 ? LuaError(kind: "interrupted", "interrupted!")
                                           : LuaError(kind: "cancelled", "cancelled")
        default:
            return LuaError(kind: "runtime", String(describing: error))
        }
    }
}
