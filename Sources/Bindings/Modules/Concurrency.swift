import CLua
import CLuaShim
import Foundation

/// The globals `sleep`, `now` and `parallel` (`wait_until` is Lua: lua/ccm/wait.lua).
enum Concurrency {
    static func install(in vm: LuaVM) {
        vm.setGlobal("sleep") { ctx in
            let seconds = try ctx.number(1)
            guard seconds.isFinite, seconds >= 0 else {
                throw LuaArgumentError(1, detail: "seconds must be a finite number >= 0, got \(seconds)")
            }
            let nanoseconds = UInt64(min(seconds * 1e9, Double(UInt64.max / 2)))
            return ctx.suspend { try await Task.sleep(nanoseconds: nanoseconds) }
        }

        vm.setGlobal("now") { ctx in
            ctx.push(monotonicSeconds())
            return 1
        }

        // parallel(f1, f2, ...) or parallel{f1, f2, ...}
        vm.setGlobal("parallel") { ctx in
            let L = ctx.state
            if ctx.argumentCount == 1 && ctx.type(at: 1) == .table {
                let count = Int32(lua_rawlen(L, 1))
                guard lua_checkstack(L, count + 1) != 0 else {
                    throw LuaArgumentError(1, detail: "too many functions")
                }
                for index in stride(from: 1, through: count, by: 1) {
                    lua_rawgeti(L, 1, lua_Integer(index))
                    guard ccm_isfunction(L, -1) != 0 else {
                        throw LuaArgumentError(1, detail: "item \(index): function expected, got \(ctx.typeName(at: -1))")
                    }
                }
                return ctx.vm.scheduler.parallel(ctx, functions: count == 0 ? [] : Array(2...(count + 1)))
            }
            let count = ctx.argumentCount
            for index in stride(from: 1, through: count, by: 1) { try ctx.checkFunction(index) }
            return ctx.vm.scheduler.parallel(ctx, functions: count == 0 ? [] : Array(1...count))
        }
    }

    /// Seconds on a clock that never jumps (CLOCK_MONOTONIC); only differences mean anything.
    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
