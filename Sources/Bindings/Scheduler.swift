import CLua
import CLuaShim

/// Runs scheduled coroutines on the Lua thread and hands them the results of Swift Tasks.
///
/// One loop: resume whatever is runnable; when nothing is, block on the inbox until a Task
/// finishes (or Ctrl-C), push its results onto the waiting coroutine and make it runnable.
/// A binding that cannot yield (inside a metamethod, say) runs this same loop in place until its
/// own operation is done, so other coroutines keep going meanwhile.
final class Scheduler {
    /// Why `run(until:)` returned.
    enum Stop: Equatable {
        case done
        case interrupted
        /// Nothing can run and nothing is pending: what we wait for can never happen.
        case stuck
    }

    unowned(unsafe) let vm: LuaVM
    let inbox = Inbox()
    /// The scheduled coroutine being resumed now (nil between runs).
    private(set) var current: Coroutine?
    private var runQueue: [Coroutine] = []
    /// Every scheduled coroutine that has not finished, oldest first.
    private var live: [Coroutine] = []
    private var operations: [UInt64: PendingOperation] = [:]
    private var operationByThread: [LuaState: UInt64] = [:]
    private var lastOperationID: UInt64 = 0

    init(vm: LuaVM) { self.vm = vm }

    // MARK: Coroutines

    /// Makes a scheduled coroutine of the function below `arguments` values on top of `L` (all
    /// popped) and queues it.
    @discardableResult
    func spawn(from L: LuaState, arguments: Int32 = 0, steps: [String] = []) -> Coroutine {
        lua_checkstack(L, 2)
        let thread = lua_newthread(L)!
        let reference = luaL_ref(L, LuaStack.registry)  // pops the thread, keeps it alive
        lua_xmove(L, thread, arguments + 1)
        let coroutine = Coroutine(thread: thread, reference: reference)
        coroutine.state = .runnable(arguments: arguments)
        coroutine.steps = steps
        runQueue.append(coroutine)
        live.append(coroutine)
        return coroutine
    }

    /// Cancels every unfinished coroutine, newest first (after an interrupt, before cleanup).
    func cancelAll() {
        for coroutine in live.reversed() { cancel(coroutine) }
        live.removeAll()
        runQueue.removeAll()
    }

    /// Runs coroutines and delivers completions until `done()` holds.
    func run(until done: () -> Bool) -> Stop {
        while !done() {
            if ccm_interrupted() != 0 { noteInterrupt(); return .interrupted }
            if !runQueue.isEmpty {
                resume(runQueue.removeFirst())
                continue
            }
            if operations.isEmpty { return .stuck }
            let (arrived, interrupted) = inbox.wait()
            // Before the cancelled Tasks' results are delivered, which ends their calls.
            if interrupted { noteInterrupt() }
            for item in arrived { deliver(item.id, item.outcome) }
            if interrupted { return .interrupted }
        }
        return .done
    }

    /// The calls waited on when an interrupt was first noticed (see `waitingCalls`); the report
    /// of the interrupt takes it.
    var callsAtInterrupt: [(function: String, position: String, steps: [String])]?

    private func noteInterrupt() {
        if callsAtInterrupt == nil { callsAtInterrupt = waitingCalls() }
    }

    private func resume(_ coroutine: Coroutine) {
        guard case .runnable(let arguments) = coroutine.state else { return }
        let previous = current
        current = coroutine
        coroutine.state = .running
        var results: Int32 = 0
        let status = lua_resume(coroutine.thread, previous?.thread ?? vm.main, arguments, &results)
        current = previous

        switch status {
        case LUA_YIELD where results == 1 && ccm_issentinel(coroutine.thread, -1) != 0:
            ccm_pop(coroutine.thread, 1)
            coroutine.state = .waiting
            if let operation = coroutine.pending, operation.outcome != nil { wake(coroutine, with: operation) }
        case LUA_YIELD:
            // coroutine.yield() in the script itself: there is nobody to yield to.
            ccm_pop(coroutine.thread, results)
            let position = ErrorValues.position(on: coroutine.thread)
            LuaStack.push(position + "attempt to yield from outside a coroutine", on: coroutine.thread)
            finish(coroutine, .failed)
        case LUA_OK:
            finish(coroutine, .returned(count: results))
        default:
            finish(coroutine, .failed)
        }
    }

    private func finish(_ coroutine: Coroutine, _ ending: Coroutine.Ending) {
        coroutine.state = .finished
        live.removeAll { $0 === coroutine }
        coroutine.pending = nil
        let handler = coroutine.onFinish
        coroutine.onFinish = nil
        if case .failed = ending {
            // A coroutine that dies of an error keeps its stack (for the traceback) and does not
            // close its to-be-closed variables by itself: close them once the handler is done
            // with the stack. The copy of the error value is what their __close receives.
            lua_pushvalue(coroutine.thread, -1)
            lua_pushvalue(coroutine.thread, -1)
            let original = luaL_ref(coroutine.thread, LuaStack.registry)
            handler?(coroutine, ending)
            if ccm_interrupted() == 0 { closeThread(of: coroutine, original: original) }
            luaL_unref(coroutine.thread, LuaStack.registry, original)
        } else {
            handler?(coroutine, ending)
        }
        luaL_unref(vm.main, LuaStack.registry, coroutine.reference)
    }

    /// lua_resetthread: runs the pending __close handlers of a suspended or dead coroutine.
    /// `original`: registry reference of the error the coroutine died of; the reset reports it
    /// again, which is no news.
    private func closeThread(of coroutine: Coroutine, original: Int32 = LUA_NOREF) {
        let previous = current
        current = coroutine
        let status = lua_resetthread(coroutine.thread)
        current = previous
        lua_rawgeti(coroutine.thread, LuaStack.registry, lua_Integer(original))
        let isOriginal = lua_rawequal(coroutine.thread, -1, -2) != 0
        ccm_pop(coroutine.thread, 1)
        if status != LUA_OK && !isOriginal {
            vm.log.write(.warn, "error in a __close handler: " + LuaStack.describe(at: -1, on: coroutine.thread),
                         steps: coroutine.steps)
        }
    }

    /// Stops a coroutine that has not finished: cancels what it waits for and closes it with
    /// lua_resetthread, so its to-be-closed variables run. `onFinish` is not called.
    func cancel(_ coroutine: Coroutine) {
        if case .finished = coroutine.state { return }
        guard !coroutine.isCancelled else { return }
        coroutine.isCancelled = true
        coroutine.onFinish = nil
        if let operation = coroutine.pending { cancel(operation) }
        runQueue.removeAll { $0 === coroutine }
        // A running coroutine is on the C stack, waiting in place: its wait now fails instead.
        if case .running = coroutine.state { return }

        closeThread(of: coroutine)
        coroutine.state = .finished
        live.removeAll { $0 === coroutine }
        luaL_unref(vm.main, LuaStack.registry, coroutine.reference)
    }

    /// The calls coroutines wait on now, oldest first: what a Ctrl-C interrupted. A `parallel`
    /// group counts only while none of its branches waits on a call of its own.
    func waitingCalls() -> [(function: String, position: String, steps: [String])] {
        let calls = operations.values.sorted { $0.id < $1.id }
        let own = calls.filter { $0.functionName != "parallel" }
        return (own.isEmpty ? calls : own).map { ($0.functionName, $0.position, $0.waiter?.steps ?? []) }
    }

    // MARK: Operations

    /// Registers an operation for the binding running in `ctx`.
    func register(_ ctx: LuaCallContext,
                  deliver: @escaping (LuaCallContext, any Sendable) throws -> LuaReturn) -> PendingOperation {
        lastOperationID += 1
        let operation = PendingOperation(id: lastOperationID, thread: ctx.state, waiter: current,
                                         position: ErrorValues.position(on: ctx.state),
                                         functionName: ctx.functionName, deliver: deliver)
        operations[operation.id] = operation
        operationByThread[ctx.state] = operation.id
        current?.pending = operation
        return operation
    }

    func suspend<T: Sendable>(_ ctx: LuaCallContext, work: @escaping @Sendable () async throws -> T,
                              resume: @escaping (LuaCallContext, T) throws -> LuaReturn) -> LuaReturn {
        let operation = register(ctx) { ctx, value in try resume(ctx, value as! T) }
        inbox.start(operation.id, work)
        return yieldOrWait(operation, ctx)
    }

    /// Yields to the scheduler when the caller can, else waits in place.
    func yieldOrWait(_ operation: PendingOperation, _ ctx: LuaCallContext) -> LuaReturn {
        if lua_isyieldable(ctx.state) != 0, let waiter = operation.waiter, case .running = waiter.state {
            operation.resumesWaiter = true
            return .yield
        }
        return waitInPlace(operation, ctx)
    }

    /// Runs the loop until `operation` is done, then pushes its results on `ctx`'s stack.
    func waitInPlace(_ operation: PendingOperation, _ ctx: LuaCallContext) -> LuaReturn {
        operation.resumesWaiter = false
        let stop = run(until: { operation.outcome != nil })
        if operation.outcome == nil {
            cancel(operation)
            operation.outcome = .failure(stop == .interrupted
                ? LuaError(kind: "interrupted", "interrupted!")
                : LuaError(kind: "runtime", "'\(operation.functionName)' can never finish: nothing else is left to run"))
        }
        if operation.waiter?.pending === operation { operation.waiter?.pending = nil }
        forget(operation)
        return complete(operation, on: ctx)
    }

    /// The relay in _boot.lua calls this where it cannot yield: waits for the operation a
    /// script's coroutine `thread` is suspended on; pushes (true, results...) or (false, error).
    func awaitThread(_ thread: LuaState, _ ctx: LuaCallContext) -> LuaReturn {
        guard let id = operationByThread[thread], let operation = operations[id] else {
            ctx.push(false)
            ctx.push("the coroutine is not waiting for anything")
            return 2
        }
        let base = lua_gettop(ctx.state)
        let result = waitInPlace(operation, ctx)
        return prependStatus(result, on: ctx.state, base: base)
    }

    /// Turns a binding's return into resume arguments: (true, values...) or (false, error).
    private func prependStatus(_ result: LuaReturn, on L: LuaState, base: Int32) -> LuaReturn {
        if result.status == CCM_STATUS_ERROR {
            lua_pushboolean(L, 0)
            ccm_insert(L, -2)           // [partial..., false, error]
            lua_rotate(L, base + 1, 2)  // [false, error, partial...]
            lua_settop(L, base + 2)
            return 2
        }
        lua_settop(L, base + result.status)
        lua_pushboolean(L, 1)
        ccm_insert(L, base + 1)
        return .values(result.status + 1)
    }

    private func complete(_ operation: PendingOperation, on ctx: LuaCallContext) -> LuaReturn {
        lua_checkstack(ctx.state, 20)
        switch operation.outcome! {
        case .failure(let error):
            vm.errors.push(error, on: ctx.state, where: .text(operation.position), function: operation.functionName)
            return .error
        case .success(let value):
            do {
                return try operation.deliver(ctx, value)
            } catch {
                vm.errors.push(error, on: ctx.state, where: .text(operation.position), function: operation.functionName)
                return .error
            }
        }
    }

    /// A Task finished.
    private func deliver(_ id: UInt64, _ outcome: Inbox.Outcome) {
        guard let operation = operations[id] else { return }  // cancelled meanwhile
        finish(operation, outcome)
    }

    /// Records the outcome; resumes the waiter if it yielded (in place, its loop notices).
    func finish(_ operation: PendingOperation, _ outcome: Inbox.Outcome) {
        operation.outcome = outcome
        operation.onCancel = nil
        if operation.resumesWaiter, let waiter = operation.waiter, case .waiting = waiter.state {
            wake(waiter, with: operation)
        }
    }

    private func wake(_ waiter: Coroutine, with operation: PendingOperation) {
        forget(operation)
        waiter.pending = nil
        let L = waiter.thread
        let base = lua_gettop(L)
        let ctx = LuaCallContext(L, vm: vm, functionName: operation.functionName)
        let arguments = prependStatus(complete(operation, on: ctx), on: L, base: base)
        waiter.state = .runnable(arguments: arguments.status)
        runQueue.append(waiter)
    }

    func cancel(_ operation: PendingOperation) {
        forget(operation)
        inbox.cancel(operation.id)
        let onCancel = operation.onCancel
        operation.onCancel = nil
        onCancel?()
        if operation.outcome == nil { operation.outcome = .failure(LuaError(kind: "cancelled", "cancelled")) }
    }

    private func forget(_ operation: PendingOperation) {
        operations[operation.id] = nil
        if operationByThread[operation.thread] == operation.id { operationByThread[operation.thread] = nil }
    }
}
