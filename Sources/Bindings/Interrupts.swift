import CLuaShim
import Foundation
import Synchronization

/// Turns SIGINT/SIGTERM into an interrupt of every running session. The C handler does the
/// async-signal-safe part (flag, Lua hook, one byte into a pipe); this watcher thread reads the
/// pipe and does the rest: cancels pending Tasks and wakes the Lua thread.
enum InterruptWatcher {
    private static let inboxes = Mutex<[ObjectIdentifier: Inbox]>([:])
    private static let started = Mutex(false)

    /// Installs the signal handlers once per process (the command line does; tests do not).
    static func start() {
        let first = started.withLock { value in
            defer { value = true }
            return !value
        }
        guard first else { return }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        let readEnd = fds[0]
        ccm_install_signal_handlers(fds[1])
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return }
                for inbox in inboxes.withLock({ Array($0.values) }) { inbox.interrupt() }
            }
        }
        thread.stackSize = 64 * 1024
        thread.start()
    }

    static func watch(_ inbox: Inbox) { inboxes.withLock { $0[ObjectIdentifier(inbox)] = inbox } }
    static func unwatch(_ inbox: Inbox) { inboxes.withLock { $0[ObjectIdentifier(inbox)] = nil } }
}
