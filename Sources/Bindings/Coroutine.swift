import CLua

/// A coroutine the scheduler owns and resumes: the script, a REPL line, a `parallel` branch or a
/// cleanup function. Coroutines a script creates itself are not scheduled; when a binding suspends
/// inside one, the suspension is relayed up through whoever resumed it (see lua/ccm/_boot.lua).
final class Coroutine {
    enum State {
        case runnable(arguments: Int32)
        case running
        /// Yielded to the scheduler; `pending` says for what.
        case waiting
        case finished
    }

    /// How it ended. The results, or the error value, are on top of `thread` while `onFinish` runs.
    enum Ending {
        case returned(count: Int32)
        case failed
    }

    let thread: LuaState
    /// Registry reference that keeps `thread` alive until the coroutine finishes.
    let reference: Int32
    var state: State = .runnable(arguments: 0)
    /// `log.step` names, innermost last; `parallel` branches start with their parent's.
    var steps: [String] = []
    /// What it waits for, yielded or in place.
    var pending: PendingOperation?
    var isCancelled = false
    var onFinish: ((Coroutine, Ending) -> Void)?

    init(thread: LuaState, reference: Int32) {
        self.thread = thread; self.reference = reference
    }
}

/// A binding's outstanding request (a Swift Task, or a `parallel` group) and how to hand its
/// result to Lua.
final class PendingOperation {
    let id: UInt64
    /// The coroutine that called the binding (perhaps a script's own coroutine inside `waiter`).
    let thread: LuaState
    /// The scheduled coroutine that waits for this operation.
    let waiter: Coroutine?
    /// True when `waiter` yielded and must be resumed with the result; false while the binding
    /// waits in place.
    var resumesWaiter = false
    /// "file.lua:12: ": where the binding was called, for its error value.
    let position: String
    let functionName: String
    /// Pushes the results of a successful outcome on the context's stack (the resume closure).
    let deliver: (LuaCallContext, any Sendable) throws -> LuaReturn
    var outcome: Inbox.Outcome?
    /// For groups: cancels the branches.
    var onCancel: (() -> Void)?

    init(id: UInt64, thread: LuaState, waiter: Coroutine?, position: String, functionName: String,
         deliver: @escaping (LuaCallContext, any Sendable) throws -> LuaReturn) {
        self.id = id; self.thread = thread; self.waiter = waiter; self.position = position
        self.functionName = functionName; self.deliver = deliver
    }
}
