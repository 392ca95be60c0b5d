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

    /// Records the end of operation `id` (once; a second end keeps the first).
    public func end(_ id: Int, at end: UInt64 = History.now()) {
        state.withLock { s in
            if let i = s.events.firstIndex(where: { $0.id == id }), s.events[i].end == nil { s.events[i].end = end }
        }
    }

    public var events: [HistoryEvent] { state.withLock { $0.events } }
}
