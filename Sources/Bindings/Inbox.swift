import Foundation

/// Where finished Swift Tasks report back to the Lua thread (a mutex and a condition). It also
/// holds the Tasks themselves, so an interrupt can cancel them all from any thread.
final class Inbox: @unchecked Sendable {
    typealias Outcome = Result<any Sendable, any Error>

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var completions: [(id: UInt64, outcome: Outcome)] = []
    private var tasks: [UInt64: Task<Void, Never>] = [:]
    private var interrupted = false

    /// Starts `work` in a Task that posts its outcome under `id` when it finishes.
    func start<T: Sendable>(_ id: UInt64, _ work: @escaping @Sendable () async throws -> T) {
        condition.lock()
        defer { condition.unlock() }
        let task = Task { [self] in
            let outcome: Outcome
            do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
            post(id, outcome)
        }
        tasks[id] = task
        if interrupted { task.cancel() }
    }

    private func post(_ id: UInt64, _ outcome: Outcome) {
        condition.lock()
        tasks[id] = nil
        completions.append((id, outcome))
        condition.signal()
        condition.unlock()
    }

    /// Cancels one Task; its completion (a CancellationError, usually) is ignored by the scheduler.
    func cancel(_ id: UInt64) {
        condition.lock()
        let task = tasks.removeValue(forKey: id)
        condition.unlock()
        task?.cancel()
    }

    /// Blocks until at least one completion arrived or an interrupt; returns what arrived.
    func wait() -> (completions: [(id: UInt64, outcome: Outcome)], interrupted: Bool) {
        condition.lock()
        defer { condition.unlock() }
        while completions.isEmpty && !interrupted { condition.wait() }
        let taken = completions
        completions.removeAll()
        return (taken, interrupted)
    }

    /// Called from the signal watcher thread: cancels every Task and wakes the Lua thread.
    func interrupt() {
        condition.lock()
        interrupted = true
        let running = Array(tasks.values)
        condition.broadcast()
        condition.unlock()
        for task in running { task.cancel() }
    }

    /// After an interrupted REPL line: later work may run again.
    func clearInterrupt() {
        condition.lock()
        interrupted = false
        condition.unlock()
    }
}
