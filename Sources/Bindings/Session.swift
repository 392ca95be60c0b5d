import CLua
import Core
import CLuaShim
import Foundation
import Synchronization

/// One run of the host on the Lua thread: creates the VM, performs the actions in order (stopping
/// at the first failure), then runs the cleanup registry.
final class Session {
    let vm: LuaVM
    let settings: HostSettings
    let invocation: LuaHost.Invocation
    private var outcome = LuaHost.Outcome(status: 0, report: nil)
    /// Where Lua code was running when a Ctrl-C stopped it (not in a call that waits), and in
    /// which steps.
    private var interruptedAt: (position: String, steps: [String])?
    /// Cleanup says what it did (removed or kept a cluster) after a Ctrl-C.
    private var reportCleanup = false

    init(settings: HostSettings, invocation: LuaHost.Invocation) {
        self.settings = settings
        self.invocation = invocation
        vm = LuaVM(settings: settings)
    }

    func run() -> LuaHost.Outcome {
        InterruptWatcher.watch(vm.scheduler.inbox)
        defer { InterruptWatcher.unwatch(vm.scheduler.inbox) }
        if let problem = prepare() {
            return LuaHost.Outcome(status: 1, report: report("ccm-lua: internal error: " + problem))
        }
        for action in invocation.actions {
            guard perform(action) else { break }
        }
        runCleanup()
        // Something the script made could not be removed: the run did not end cleanly.
        if outcome.status == 0, vm.cleanup.failures.any { outcome.status = 1 }
        return outcome
    }

    /// Installs the globals, the modules, `require`'s search order and `arg`.
    private func prepare() -> String? {
        Concurrency.install(in: vm)
        HostModule.install(in: vm, session: self)
        vm.preload(Exec.module)
        vm.preload(ClusterModule.module)
        TestRunnerModule.install(in: vm, config: TestRunConfig(), sink: ConsoleTestSink())
        vm.preload(FaultModule.module)
        vm.preload(ImageModule.module)
        vm.preload(HistoryModule.module)
        vm.preload(CheckModule.module)
        vm.preload(HTTPModule.module)
        vm.preload(TCPModule.module)
        RequirePath.install(in: vm, settings: settings)
        setArgTable()
        if let problem = vm.runBuiltin("ccm._boot") { return problem }
        invocation.setup?(vm)
        return nil
    }

    private func setArgTable() {
        let L = vm.main
        let line = invocation.commandLine
        let script = invocation.scriptIndex ?? 0
        lua_createtable(L, Int32(max(line.count - script - 1, 0)), Int32(script + 1))
        for (index, item) in line.enumerated() {
            LuaStack.push(item, on: L)
            lua_rawseti(L, -2, lua_Integer(index - script))
        }
        ccm_pushglobaltable(L)
        ccm_insert(L, -2)
        LuaStack.setField("arg", on: L)
        ccm_pop(L, 1)
    }

    // MARK: Actions

    /// False when the run must stop (an error, an interrupt).
    private func perform(_ action: LuaHost.Action) -> Bool {
        switch action {
        case .code(let source):
            guard load(LuaChunk.load(source, named: "=(command line)", on: vm.main)) else { return false }
            return execute(arguments: [])
        case .require(let name):
            ccm_pushglobaltable(vm.main)
            LuaStack.push("require", on: vm.main)
            lua_rawget(vm.main, -2)
            ccm_remove(vm.main, -2)
            LuaStack.push(name, on: vm.main)
            return execute(arguments: [], preset: 1, storeResultAs: name)
        case .script(let path, let arguments):
            if path != "-", let problem = Self.unreadable(path) {
                fail("ccm-lua: cannot run '\(path)': \(problem)")
                return false
            }
            guard load(luaL_loadfilex(vm.main, path == "-" ? nil : path, nil)) else { return false }
            return execute(arguments: arguments)
        case .repl:
            REPL(session: self).run()
            return true
        }
    }

    private static func unreadable(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "no such file" }
        if isDirectory.boolValue { return "it is a directory" }
        guard FileManager.default.isReadableFile(atPath: path) else { return "permission denied" }
        return nil
    }

    /// Checks a load status; on a syntax error reports it (nothing has run yet).
    private func load(_ status: Int32) -> Bool {
        guard status == LUA_OK else {
            let message = LuaStack.describe(at: -1, on: vm.main)
            ccm_pop(vm.main, 1)
            fail("ccm-lua: " + message)
            return false
        }
        return true
    }

    /// Runs the function on top of the main stack (below `preset` arguments already pushed, plus
    /// `arguments`) as the script's coroutine until it ends.
    @discardableResult
    func execute(arguments: [String], preset: Int32 = 0, storeResultAs global: String? = nil,
                 onResults: ((LuaState, Int32) -> Void)? = nil) -> Bool {
        let L = vm.main
        lua_checkstack(L, Int32(arguments.count) + 1)
        for argument in arguments { LuaStack.push(argument, on: L) }
        let coroutine = vm.scheduler.spawn(from: L, arguments: preset + Int32(arguments.count))
        var succeeded = false
        var failure: String?
        coroutine.onFinish = { [unowned self] coroutine, ending in
            switch ending {
            case .returned(let count):
                succeeded = true
                if let global, count > 0 {
                    lua_settop(coroutine.thread, lua_gettop(coroutine.thread) - count + 1)
                    ccm_pushglobaltable(coroutine.thread)
                    ccm_insert(coroutine.thread, -2)
                    LuaStack.setField(global, on: coroutine.thread)
                    ccm_pop(coroutine.thread, 1)
                }
                onResults?(coroutine.thread, count)
            case .failed:
                // Printed once the coroutine's <close> variables have run (their log lines first).
                if ccm_interrupted() == 0 {
                    failure = ErrorReport.uncaught(on: coroutine.thread, main: vm.main, fullTraceback: settings.fullTracebacks)
                } else {
                    interruptedAt = (ErrorValues.position(on: coroutine.thread, level: 0), coroutine.steps)
                }
            }
        }
        let stop = vm.scheduler.run(until: { if case .finished = coroutine.state { true } else { false } })
        if stop == .interrupted || ccm_interrupted() != 0 {
            interrupted()
            return false
        }
        if let failure { fail(failure) }
        if stop == .stuck {
            fail("ccm-lua: the script is waiting for something that can never happen: every coroutine waits and no operation is pending (a coroutine.yield() outside a coroutine of its own?)")
            return false
        }
        return succeeded
    }

    // MARK: Ending

    var isInterrupted: Bool { ccm_interrupted() != 0 }

    /// The REPL survives errors: a failed line does not make the whole run fail.
    func resetStatus() { outcome = LuaHost.Outcome(status: 0, report: nil) }

    func interrupted() {
        let signal = ccm_interrupt_signal()
        outcome.status = 128 + (signal == 0 ? SIGINT : signal)
        outcome.report = report("ccm-lua: " + interruptedText())
        reportCleanup = true
    }

    /// "interrupted in 'sleep' at x.lua:3 (step 'load data')": the calls the script waited on, or
    /// the line its Lua code was running.
    private func interruptedText() -> String {
        func place(_ position: String, _ steps: [String]) -> String {
            var text = "at " + (position.hasSuffix(": ") ? String(position.dropLast(2)) : position)
            if !steps.isEmpty { text += " (step '\(steps.joined(separator: " > "))')" }
            return text
        }
        let calls = vm.scheduler.callsAtInterrupt ?? vm.scheduler.waitingCalls()
        var running = calls.map { "'\($0.function)' " + place($0.position, $0.steps) }
        // Lua code that was running, unless it was only the caller of those calls.
        if running.isEmpty, let (position, steps) = interruptedAt, !position.isEmpty { running.append(place(position, steps)) }
        interruptedAt = nil
        vm.scheduler.callsAtInterrupt = nil
        switch running.count {
        case 0: return "interrupted"
        case 1: return "interrupted " + (running[0].hasPrefix("'") ? "in " : "") + running[0]
        default: return "interrupted in:\n  " + running.joined(separator: "\n  ")
        }
    }

    /// Records (and prints) an uncaught error or load failure; the exit status becomes 1.
    func fail(_ text: String) {
        outcome.status = 1
        outcome.report = report(text)
    }

    /// Prints `text` to stderr when the settings say so, and returns it.
    func report(_ text: String) -> String {
        if settings.printErrors {
            fflush(nil)
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
        return text
    }

    /// Runs every cleanup entry, newest first: after the script, on error and after Ctrl-C.
    func runCleanup() {
        ccm_clear_interrupt(0)  // Lua cleanup functions must run; a second Ctrl-C still exits at once
        vm.scheduler.inbox.clearInterrupt()
        vm.scheduler.cancelAll()  // an interrupted script's coroutines: their <close> variables run
        for entry in vm.cleanup.takeAll() {
            switch entry {
            case .swift(let name, let work):
                let done = DispatchSemaphore(value: 0)
                let said = Mutex<String?>(nil)
                Task { let text = await work(); said.withLock { $0 = text }; done.signal() }
                done.wait()
                _ = name
                if reportCleanup, let text = said.withLock({ $0 }) { _ = report("ccm-lua: " + text) }
            case .lua(let name, let reference):
                lua_rawgeti(vm.main, LuaStack.registry, lua_Integer(reference))
                luaL_unref(vm.main, LuaStack.registry, reference)
                let coroutine = vm.scheduler.spawn(from: vm.main)
                coroutine.onFinish = { [unowned self] coroutine, ending in
                    if case .failed = ending {
                        vm.log.write(.warn, "cleanup '\(name)' failed: " + LuaStack.describe(at: -1, on: coroutine.thread), steps: [])
                    }
                }
                _ = vm.scheduler.run(until: { if case .finished = coroutine.state { true } else { false } })
            }
        }
    }

    /// os.exit: cleanup first, then leave with `code`.
    func exit(_ code: Int32) -> Never {
        runCleanup()
        fflush(nil)
        Foundation.exit(code)
    }
}
