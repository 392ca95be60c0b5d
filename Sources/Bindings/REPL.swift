import CLua
import CLuaShim
import Foundation

/// The interactive loop, like lua 5.4's: prints the values of expressions, keeps going after
/// errors, and reads more lines while a statement is incomplete. Every line runs as a scheduled
/// coroutine, so `sleep` and `parallel` work at the prompt. Ctrl-C interrupts the running line;
/// at the prompt it ends the session, as it does lua, but the clusters created in it are removed
/// first (exit status 130).
struct REPL {
    let session: Session
    private var L: LuaState { session.vm.main }
    private let interactive = isatty(0) != 0

    init(session: Session) { self.session = session }

    func run() {
        if interactive { print("ccm-lua \(CCMVersion.current) (Lua 5.4); Ctrl-D to quit") }
        while true {
            switch readChunk() {
            case .endOfInput:
                if interactive { print() }
                if session.isInterrupted { session.interrupted() }
                return
            case .syntaxError: continue
            case .ready: break
            }
            session.execute(arguments: []) { thread, count in printResults(thread, count) }
            if session.isInterrupted {
                ccm_clear_interrupt(1)
                session.vm.scheduler.inbox.clearInterrupt()
                session.vm.scheduler.cancelAll()
            }
            session.resetStatus()
        }
    }

    private enum ChunkRead { case ready, syntaxError, endOfInput }

    /// Reads and compiles one statement (several lines when incomplete); when `.ready`, the
    /// function is on top of the main stack.
    private func readChunk() -> ChunkRead {
        guard let first = readLine(prompt: "> ") else { return .endOfInput }
        // An expression? Print its value.
        if LuaChunk.load("return " + first, named: "=stdin", on: L) == LUA_OK { return .ready }
        ccm_pop(L, 1)
        var buffer = first
        while true {
            let status = LuaChunk.load(buffer, named: "=stdin", on: L)
            if status == LUA_OK { return .ready }
            let message = LuaStack.describe(at: -1, on: L)
            ccm_pop(L, 1)
            if status == LUA_ERRSYNTAX && message.hasSuffix("<eof>"), let more = readLine(prompt: ">> ") {
                buffer += "\n" + more
                continue
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            return .syntaxError
        }
    }

    private func readLine(prompt: String) -> String? {
        if interactive {
            FileHandle.standardOutput.write(Data(prompt.utf8))
        }
        // Ctrl-C at the prompt quits, as in lua: the read returns, and the session ends with its
        // cleanup.
        ccm_handle_signals_interrupting_reads()
        defer { ccm_handle_signals() }
        if session.isInterrupted { return nil }
        return Swift.readLine(strippingNewline: true)
    }

    /// Calls the global `print` with the results on top of `thread`, protected.
    private func printResults(_ thread: LuaState, _ count: Int32) {
        guard count > 0 else { return }
        lua_checkstack(L, count + 2)
        ccm_pushglobaltable(L)
        LuaStack.push("print", on: L)
        lua_rawget(L, -2)
        ccm_remove(L, -2)
        lua_xmove(thread, L, count)
        if ccm_pcall(L, count, 0, 0) != LUA_OK {
            let message = LuaStack.describe(at: -1, on: L)
            ccm_pop(L, 1)
            FileHandle.standardError.write(Data("error calling 'print' (\(message))\n".utf8))
        }
    }
}
