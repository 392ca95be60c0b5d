import Foundation
import Synchronization

/// One thing that happened during a run (a fault, a nemesis schedule, ...), with monotonic start
/// and end times in nanoseconds (CLOCK_MONOTONIC: only differences mean anything).
public struct HistoryEvent: Sendable, Equatable {
    public var id: Int
    /// "fault", "nemesis", ...
    public var kind: String
    /// What it was: "partition", "block", "loss", "pause", ...
    public var name: String
    /// The nodes it hit.
    public var targets: [String]
    public var details: [String: String]
    public var start: UInt64
    /// nil while it lasts.
    public var end: UInt64?
    /// How it ended when that says more than "it ended": "exit 1" for an exec, a test's status;
    /// nil for a plain success.
    public var result: String? = nil
    /// The error's kind ("timeout", "exec", ...) when it failed.
    public var error: String? = nil
    /// The test file whose worker recorded it (set when `ccm-lua test` gathers its workers' histories).
    public var file: String? = nil

    public init(id: Int, kind: String, name: String, targets: [String], details: [String: String] = [:], start: UInt64,
                end: UInt64?, result: String? = nil, error: String? = nil, file: String? = nil) {
        self.id = id; self.kind = kind; self.name = name; self.targets = targets; self.details = details
        self.start = start; self.end = end; self.result = result; self.error = error; self.file = file
    }

    /// The one node it concerned, when there was one.
    public var node: String? { targets.count == 1 ? targets[0] : nil }
    public var cluster: String? { details["cluster"] }
}

/// The in-memory history of one run: every recorded operation with its start and end. Writers
/// append from any thread; the runner and the report read it at the end.
public final class History: Sendable {
    /// The run of this process.
    public static let run = History()

    private let state = Mutex<(events: [HistoryEvent], lastID: Int)>(([], 0))

    public init() {}

    /// Nanoseconds on the monotonic clock.
    public static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Records the start of an operation; returns its id for `end`.
    @discardableResult
    public func begin(at start: UInt64 = History.now(), kind: String, name: String, targets: [String],
                      details: [String: String] = [:]) -> Int {
        state.withLock { s in
            s.lastID += 1
            s.events.append(HistoryEvent(id: s.lastID, kind: kind, name: name, targets: targets, details: details,
                                         start: start, end: nil))
            return s.lastID
        }
    }

    /// Records the end of operation `id` (once; a second end keeps the first), with how it ended.
    public func end(_ id: Int, at end: UInt64 = History.now(), result: String? = nil, error: String? = nil) {
        state.withLock { s in
            // Searched from the back: the operation ending is nearly always a recent one.
            if let i = s.events.lastIndex(where: { $0.id == id }), s.events[i].end == nil {
                s.events[i].end = end
                s.events[i].result = result
                s.events[i].error = error
            }
        }
    }

    /// Replaces the end and merges `details` into operation `id` (a workload published again after
    /// a later check).
    public func update(_ id: Int, end: UInt64?, details: [String: String]) {
        state.withLock { s in
            guard let i = s.events.lastIndex(where: { $0.id == id }) else { return }
            s.events[i].end = end
            s.events[i].details.merge(details) { $1 }
        }
    }

    /// Runs `body` as one recorded operation: its end carries `result` of what it returned, or
    /// the kind of the error it threw.
    public func record<T>(isolation: isolated (any Actor)? = #isolation, kind: String, name: String, targets: [String], details: [String: String] = [:],
                          result: (T) -> String? = { _ in nil }, _ body: () async throws -> T) async rethrows -> T {
        let id = begin(kind: kind, name: name, targets: targets, details: details)
        do {
            let value = try await body()
            end(id, result: result(value))
            return value
        } catch {
            end(id, result: "error", error: History.errorKind(error))
            throw error
        }
    }

    /// The kind a script would see for `error` (API.md "Values and errors").
    public static func errorKind(_ error: any Error) -> String {
        switch error {
        case let e as ClusterError: e.scriptKind
        case let e as RuntimeError: e.scriptKind
        case let e as FaultError: e.kind.rawValue
        case is CancellationError: "cancelled"
        default: "error"
        }
    }

    public var events: [HistoryEvent] { state.withLock { $0.events } }
}

extension ClusterError {
    /// The error value's `kind` in scripts and in the history.
    public var scriptKind: String {
        switch kind {
        case .usage, .notFound: "usage"
        case .config: "config"
        case .timeout: "timeout"
        case .exited: "exited"
        case .state: "runtime"
        }
    }
}

extension RuntimeError {
    /// The error value's `kind` in scripts and in the history.
    public var scriptKind: String {
        switch kind {
        case .imageNotFound: "image"
        case .timeout: "timeout"
        case .execFailed: "exec"
        default: "runtime"
        }
    }
}
