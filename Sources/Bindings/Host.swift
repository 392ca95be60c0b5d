import Foundation

/// The entry point of the Lua host: runs a list of actions (as `lua` does for its command line)
/// in one Lua state on a dedicated thread, then the cleanup registry.
public enum LuaHost {
    public enum Action: Sendable {
        /// `-e CODE`
        case code(String)
        /// `-l NAME`: `NAME = require "NAME"`
        case require(String)
        /// `FILE args...`, or "-" for standard input.
        case script(path: String, arguments: [String])
        /// `-i`, or no arguments at all on a terminal.
        case repl
    }

    public struct Invocation: Sendable {
        public var actions: [Action]
        /// The whole command line, for the global `arg` (as lua(1) builds it).
        public var commandLine: [String]
        /// Index of the script in `commandLine`; nil when there is none.
        public var scriptIndex: Int?
        /// Runs on the Lua thread once the state is ready (tests register bindings here).
        public var setup: (@Sendable (LuaVM) -> Void)?

        public init(actions: [Action], commandLine: [String] = ["ccm-lua"], scriptIndex: Int? = nil,
                    setup: (@Sendable (LuaVM) -> Void)? = nil) {
            self.actions = actions; self.commandLine = commandLine; self.scriptIndex = scriptIndex
            self.setup = setup
        }
    }

    public struct Outcome: Sendable, Equatable {
        /// The process exit status: 0, 1 (error), 128 + signal (interrupted), os.exit's code.
        public var status: Int32
        /// What was printed (or would have been) for an uncaught error.
        public var report: String?
    }

    /// Whether Ctrl-C should interrupt scripts (the command line turns this on once).
    public static func handleSignals() { InterruptWatcher.start() }

    /// Runs `invocation` on a new Lua thread and returns when it is done.
    public static func run(_ invocation: Invocation, settings: HostSettings) async -> Outcome {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                // The session (and its Lua state, whose __gc release Swift objects) is gone
                // before the caller hears the outcome.
                let outcome = Session(settings: settings, invocation: invocation).run()
                continuation.resume(returning: outcome)
            }
            // Deep Lua recursion and nested in-place waits run on this stack.
            thread.stackSize = 64 << 20
            thread.name = "lua"
            thread.start()
        }
    }
}
