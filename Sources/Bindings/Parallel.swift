import CLua
import CLuaShim

/// The branches of one `parallel` call and what they produced so far.
private final class ParallelGroup {
    var branches: [Coroutine] = []
    var remaining: Int
    /// Registry reference of a table: branch index -> the branch's first result.
    let results: Int32
    var settled = false

    init(count: Int, results: Int32) { remaining = count; self.results = results }
}

extension Scheduler {
    /// Runs the functions at `functions` (stack indexes of `ctx`) as concurrent coroutines and
    /// returns their first results in order. The first error cancels the other branches (their
    /// pending operations are cancelled and their to-be-closed variables run) and is re-raised.
    func parallel(_ ctx: LuaCallContext, functions: [Int32]) -> LuaReturn {
        let L = ctx.state
        let count = functions.count
        guard count > 0 else { return 0 }
        lua_createtable(L, Int32(count), 0)
        let results = luaL_ref(L, LuaStack.registry)
        let group = ParallelGroup(count: count, results: results)

        let operation = register(ctx) { ctx, _ in
            let L = ctx.state
            lua_checkstack(L, Int32(count) + 2)
            lua_rawgeti(L, LuaStack.registry, lua_Integer(results))
            let table = lua_gettop(L)
            for index in 1...count { lua_rawgeti(L, table, lua_Integer(index)) }
            ccm_remove(L, table)
            luaL_unref(L, LuaStack.registry, results)
            return .values(Int32(count))
        }
        operation.onCancel = { [unowned self] in
            group.settled = true
            for branch in group.branches { cancel(branch) }
            luaL_unref(vm.main, LuaStack.registry, results)
        }

        let steps = current?.steps ?? []
        for (offset, index) in functions.enumerated() {
            lua_pushvalue(L, index)
            let branch = spawn(from: L, steps: steps)
            branch.onFinish = { [unowned self, weak group, weak operation] branch, ending in
                guard let group, let operation, !group.settled else { return }
                branchFinished(branch, number: offset + 1, ending, group: group, operation: operation)
            }
            group.branches.append(branch)
        }
        return yieldOrWait(operation, ctx)
    }

    private func branchFinished(_ branch: Coroutine, number: Int, _ ending: Coroutine.Ending,
                                group: ParallelGroup, operation: PendingOperation) {
        let main = vm.main
        switch ending {
        case .returned(let count):
            if count > 0 {
                lua_settop(branch.thread, lua_gettop(branch.thread) - count + 1)  // keep the first
                lua_rawgeti(main, LuaStack.registry, lua_Integer(group.results))
                lua_xmove(branch.thread, main, 1)
                lua_rawseti(main, -2, lua_Integer(number))
                ccm_pop(main, 1)
            }
            group.remaining -= 1
            if group.remaining == 0 {
                group.settled = true
                finish(operation, .success(()))
            }
        case .failed:
            group.settled = true
            lua_xmove(branch.thread, main, 1)
            let error = RaisedLuaValue(reference: luaL_ref(main, LuaStack.registry))
            for sibling in group.branches where sibling !== branch { cancel(sibling) }
            luaL_unref(main, LuaStack.registry, group.results)
            finish(operation, .failure(error))
        }
    }
}
