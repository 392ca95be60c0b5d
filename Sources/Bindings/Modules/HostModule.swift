import Foundation
import CLua
import CLuaShim
import Core

/// `ccm.host`: the host's private functions for the built-in Lua library (_boot, log, errors).
/// Not part of the API contract; scripts use the public modules built on it.
enum HostModule {
    static func install(in vm: LuaVM, session: Session) {
        // Closures reach the VM through ctx.vm: capturing it would keep it alive for ever.
        var module = LuaModule("ccm.host")

        // The value a suspended binding yields (see _boot.lua's relay).
        module.function("sentinel") { ctx in
            ccm_pushsentinel(ctx.state)
            return 1
        }
        // await(co): waits in place for what `co` is suspended on; (true, ...) or (false, err).
        module.function("await") { ctx in
            guard let thread = lua_tothread(ctx.state, 1) else { throw LuaArgumentError(1, expected: "thread") }
            return ctx.vm.scheduler.awaitThread(thread, ctx)
        }
        // new_error(t, level): gives t the error metatable and t.where = the position `level` up.
        module.function("new_error") { ctx in
            try ctx.checkTable(1)
            let level = Int32(try ctx.optionalInteger(2) ?? 1)
            lua_settop(ctx.state, 1)
            LuaStack.push(ErrorValues.position(on: ctx.state, level: level), on: ctx.state)
            LuaStack.setField("where", on: ctx.state)
            ctx.vm.errors.pushMetatable(on: ctx.state)
            lua_setmetatable(ctx.state, 1)
            return 1
        }
        module.function("log_enabled") { ctx in
            ctx.push(ctx.vm.log.isEnabled(try level(ctx, 1)))
            return 1
        }
        module.function("log_write") { ctx in
            ctx.vm.log.write(try level(ctx, 1), try ctx.string(2), steps: currentSteps(ctx))
            return 0
        }
        module.function("step_enter") { ctx in
            let name = try ctx.string(1)
            ctx.vm.log.write(.info, "▶ \(name)", steps: currentSteps(ctx))
            ctx.vm.scheduler.current?.steps.append(name)
            ctx.push(History.run.begin(kind: "step", name: name, targets: []))
            return 1
        }
        // step_leave(name, seconds, err, id, kind): logs the outcome, pops the step and ends
        // its record in the history (`kind`: the error's kind when it failed).
        module.function("step_leave") { ctx in
            let name = try ctx.string(1)
            let seconds = try ctx.number(2)
            let scheduler = ctx.vm.scheduler!
            let log = ctx.vm.log
            _ = scheduler.current?.steps.popLast()
            let steps = currentSteps(ctx)
            let duration = formatDuration(seconds)
            if let id = try ctx.optionalInteger(4) {
                let cancelled = scheduler.current?.isCancelled == true
                History.run.end(id, result: cancelled ? "cancelled" : ctx.isNoneOrNil(3) ? nil : "error",
                                error: cancelled ? "cancelled" : try ctx.optionalString(5))
            }
            if scheduler.current?.isCancelled == true {
                log.write(.warn, "◼ \(name) cancelled after \(duration)", steps: steps)
            } else if ctx.isNoneOrNil(3) {
                log.write(.info, "✓ \(name) (\(duration))", steps: steps)
            } else {
                let problem = ErrorReport.message(at: 3, on: ctx.state, raisedIn: ctx.state)
                log.write(.error, "✗ step '\(name)' failed after \(duration): \(problem)", steps: steps)
            }
            return 0
        }
        // on_exit(fn, name): runs fn when the script ends, however it ends.
        module.function("on_exit") { ctx in
            try ctx.checkFunction(1)
            let name = try ctx.optionalString(2) ?? "on_exit function"
            lua_pushvalue(ctx.state, 1)
            let reference = luaL_ref(ctx.state, LuaStack.registry)
            _ = ctx.vm.cleanup.append(.lua(name: name, reference: reference))
            return 0
        }
        // exit(code): os.exit, after the cleanup registry.
        module.function("exit") { [unowned session] ctx in
            var code: Int32 = 0
            switch ctx.type(at: 1) {
            case .none, .nil: code = 0
            case .boolean: code = ctx.truthy(1) ? 0 : 1
            default: code = Int32(truncatingIfNeeded: try ctx.integer(1))
            }
            session.exit(code)
        }
        vm.preload(module)
    }

    private static func level(_ ctx: LuaCallContext, _ index: Int32) throws -> LogLevel {
        let name = try ctx.string(index)
        guard let level = LogLevel(name: name) else {
            throw LuaArgumentError(index, detail: "unknown log level '\(name)'")
        }
        return level
    }

    private static func currentSteps(_ ctx: LuaCallContext) -> [String] { ctx.vm.scheduler.current?.steps ?? [] }

    static func formatDuration(_ seconds: Double) -> String {
        seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : String(format: "%.2f s", seconds)
    }
}
