import Synchronization
/// Work that must happen when a script ends, however it ends (returned, raised an error, or was
/// interrupted): removing the clusters it created, for instance. Entries run once, newest first.
/// Used on the Lua thread only.
public final class CleanupRegistry {
    public struct Handle: Hashable, Sendable { let id: Int }

    enum Entry {
        /// `work` returns what it did, for the report after a Ctrl-C ("removed cluster x").
        case swift(name: String, work: @Sendable () async -> String?)
        /// A Lua function (registry reference) registered by `ccm.on_exit`.
        case lua(name: String, reference: Int32)
    }

    /// Cleanup work that failed (a cluster that could not be removed) notes it here: a script that
    /// leaves something behind must not exit 0, or CI would never notice.
    public let failures = CleanupFailures()

    private var entries: [(id: Int, entry: Entry)] = []
    private var lastID = 0

    /// Registers `work`, named for whoever reads the registry; `work` reports its own failures
    /// (it runs after the script, which can no longer handle them).
    @discardableResult
    public func add(_ name: String, _ work: @escaping @Sendable () async -> Void) -> Handle {
        append(.swift(name: name, work: { await work(); return nil }))
    }

    /// Registers `work` that says what it did ("removed cluster x"), or nil when it did nothing
    /// worth telling; after a Ctrl-C the user reads that.
    @discardableResult
    public func add(_ name: String, reporting work: @escaping @Sendable () async -> String?) -> Handle {
        append(.swift(name: name, work: work))
    }

    /// Forgets an entry whose work is no longer needed (the cluster was removed already).
    public func remove(_ handle: Handle) {
        entries.removeAll { $0.id == handle.id }
    }

    func append(_ entry: Entry) -> Handle {
        lastID += 1
        entries.append((lastID, entry))
        return Handle(id: lastID)
    }

    /// Hands out the entries, newest first, and empties the registry.
    func takeAll() -> [Entry] {
        defer { entries.removeAll() }
        return entries.reversed().map(\.entry)
    }

    public var isEmpty: Bool { entries.isEmpty }
}

/// Whether any cleanup work failed; safe to note from the tasks cleanup work runs in.
public final class CleanupFailures: Sendable {
    private let count = Mutex(0)
    public func note() { count.withLock { $0 += 1 } }
    public var any: Bool { count.withLock { $0 > 0 } }
}
