import CLua
import CLuaShim

/// A raw `lua_State *`: the main thread or one of its coroutines.
public typealias LuaState = OpaquePointer

/// A Swift function Lua can call. It reads its arguments from `ctx`, pushes its results and
/// returns how many; or returns `ctx.suspend(...)`. A thrown error becomes a Lua error value
/// (see `LuaErrorInfo`). It must never call a Lua API function that can raise (see CallContext).
public typealias LuaFunction = (LuaCallContext) throws -> LuaReturn

/// What a binding hands back to the C trampoline: a number of results, or "suspended".
/// Integer literals work: `return 1`.
public struct LuaReturn: ExpressibleByIntegerLiteral, Sendable {
    let status: Int32

    init(status: Int32) { self.status = status }
    public init(integerLiteral count: Int32) { precondition(count >= 0); status = count }
    public static func values(_ count: Int32) -> LuaReturn { LuaReturn(integerLiteral: count) }
    public static let none: LuaReturn = 0
    /// The error value is on top of the stack; the trampoline raises it.
    static let error = LuaReturn(status: CCM_STATUS_ERROR)
    /// A pending operation is registered; the trampoline yields to the scheduler.
    static let yield = LuaReturn(status: CCM_STATUS_YIELD)
}

/// Keeps one Swift function alive for as long as its VM; Lua holds it as a light userdata
/// (upvalue 1 of the trampoline closure), so the VM, not the garbage collector, owns it.
final class LuaFunctionBox {
    let name: String
    unowned(unsafe) let vm: LuaVM
    let body: LuaFunction

    init(name: String, vm: LuaVM, body: @escaping LuaFunction) {
        self.name = name; self.vm = vm; self.body = body
    }

    /// Runs the body; any thrown error is turned into an error value on the stack here, so the
    /// trampoline raises it after this frame is gone.
    func call(_ L: LuaState) -> Int32 {
        let ctx = LuaCallContext(L, vm: vm, functionName: name)
        do {
            return try body(ctx).status
        } catch {
            vm.errors.push(error, on: L, where: .caller, function: name)
            return CCM_STATUS_ERROR
        }
    }
}

/// The single C-callable entry point of every trampoline (registered with `ccm_set_dispatch`).
func dispatchToSwift(_ L: LuaState?, _ function: UnsafeMutableRawPointer?) -> Int32 {
    Unmanaged<LuaFunctionBox>.fromOpaque(function!).takeUnretainedValue().call(L!)
}
