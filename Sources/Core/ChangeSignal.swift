import Synchronization

/// A counter that waiters can sleep on until it moves past a value they saw. Log waiters use it to
/// be woken by new lines instead of polling. Reading the version before looking at the data, then
/// waiting for a newer one, closes the gap where a line arrives between the look and the wait.
final class ChangeSignal: Sendable {
    private struct State {
        var version: UInt64 = 0
        var waiters: [UInt64: (after: UInt64, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    var version: UInt64 { state.withLock { $0.version } }

    func signal() {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.version += 1
            let woken = s.waiters.values.map(\.continuation)
            s.waiters.removeAll()
            return woken
        }
        ready.forEach { $0.resume() }
    }

    /// Returns when the version is past `seen`, or at `deadline` (then `false`), or on cancellation.
    func wait(after seen: UInt64, until deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.waitForChange(after: seen); return true }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first && !Task.isCancelled
        }
    }

    /// Returns when the version is past `seen` (then `true`), or on cancellation; no timer runs.
    func wait(after seen: UInt64) async -> Bool {
        await waitForChange(after: seen)
        return !Task.isCancelled
    }

    private func waitForChange(after seen: UInt64) async {
        let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.version > seen || Task.isCancelled { return true }
                    s.waiters[id] = (seen, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }
}
