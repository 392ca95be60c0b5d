import Foundation
import Synchronization

/// A workload's history while a scenario records it (`require "ccm.history"`): the operations live
/// here, in Swift, so ten `parallel` branches can record thousands of operations a second without
/// growing Lua tables. It enforces Jepsen's rules of a history: one open operation per process, one
/// completion per invocation, and a process that ended an operation with `info` is crashed for the
/// rest of the history.
public final class WorkloadRecorder: Sendable {
    /// A mistake in how a scenario records (an error of kind "usage" in Lua).
    public struct UsageError: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    private struct State {
        var operations: [ClientOperation] = []
        /// The open invocation of each process, by index.
        var open: [ClientOperation.Process: Int] = [:]
        var crashed: Set<ClientOperation.Process> = []
        var highestClient = -1
        /// The run history's event that shows this workload in the report, once published.
        var eventID: Int?
    }

    private let state = Mutex(State())
    /// `history-<number>` in the artifacts: the order histories were made in this process.
    public let number: Int
    public let created: UInt64
    /// Read from a file: its times come from another run (or another clock), so the report places
    /// it at the moment it was loaded.
    public let isLoaded: Bool

    private static let lastNumber = Mutex(0)
    /// Histories a script still holds: published when a test ends or the process writes its
    /// history, so an unchecked workload reaches the report too.
    private static let live = Mutex<[Int: WorkloadRecorder]>([:])

    public init(_ loaded: OperationHistory? = nil) {
        number = Self.lastNumber.withLock { $0 += 1; return $0 }
        created = History.now()
        isLoaded = loaded != nil
        // A loaded history (a file, perhaps Jepsen's) reaches the report only when checked.
        guard let loaded else {
            Self.live.withLock { $0[number] = self }
            return
        }
        state.withLock { s in
            s.operations = loaded.operations
            for (i, op) in loaded.operations.enumerated() {
                s.operations[i].index = i
                if case .client(let p) = op.process { s.highestClient = max(s.highestClient, p) }
            }
        }
    }

    /// Records an invocation; returns its index (the handle of its completion).
    public func invoke(process: ClientOperation.Process, f: String, key: String?, value: OperationValue,
                       at time: UInt64 = History.now()) throws -> Int {
        try state.withLock { s in
            if s.crashed.contains(process) {
                throw UsageError(message: "process \(process.text) is crashed: it ended an operation with info (outcome unknown), so it may still be running it. Invoke on a new process (op:info returns the next one)")
            }
            if let open = s.open[process] {
                throw UsageError(message: "process \(process.text) already has an open operation (\(s.operations[open].f), index \(open)): complete it with op:ok, op:fail or op:info before invoking again")
            }
            let index = s.operations.count
            s.operations.append(ClientOperation(index: index, kind: .invoke, process: process, f: f, key: key, value: value, time: time))
            s.open[process] = index
            if case .client(let p) = process { s.highestClient = max(s.highestClient, p) }
            return index
        }
    }

    /// Completes the invocation at `invocation` with `kind` (ok, fail or info). A nil `value`
    /// repeats the invocation's value (a write's ok).
    public func complete(_ invocation: Int, kind: ClientOperation.Kind, value: OperationValue?, error: String? = nil,
                         at time: UInt64 = History.now()) throws {
        try state.withLock { s in
            guard kind != .invoke else { throw UsageError(message: "an operation completes with ok, fail or info") }
            guard s.operations.indices.contains(invocation), s.operations[invocation].kind == .invoke else {
                throw UsageError(message: "no invocation at index \(invocation)")
            }
            let invoked = s.operations[invocation]
            guard s.open[invoked.process] == invocation else {
                throw UsageError(message: "operation \(invoked.f) (index \(invocation)) of process \(invoked.process.text) is already completed: an operation completes once")
            }
            s.open[invoked.process] = nil
            if kind == .info { s.crashed.insert(invoked.process) }
            s.operations.append(ClientOperation(index: s.operations.count, kind: kind, process: invoked.process, f: invoked.f,
                                                key: invoked.key, value: value ?? invoked.value, time: time, error: error))
        }
    }

    /// The process a worker continues with after `process` crashed: Jepsen's `process +
    /// concurrency` when the concurrency is known, else one past every client process seen.
    public func nextProcess(after process: Int, concurrency: Int?) -> Int {
        state.withLock { s in
            var next = concurrency.map { process + $0 } ?? s.highestClient + 1
            while s.crashed.contains(.client(next)) || s.open[.client(next)] != nil { next += concurrency ?? 1 }
            s.highestClient = max(s.highestClient, next)
            return next
        }
    }

    public var history: OperationHistory { OperationHistory(state.withLock { $0.operations }) }
    public var count: Int { state.withLock { $0.operations.count } }

    /// The script let go of it: shown as it is, then forgotten here.
    public func retire() {
        if count > 0 { publish() }
        _ = Self.live.withLock { $0.removeValue(forKey: number) }
    }

    /// Publishes every history a script holds that has operations (see `publish`).
    public static func publishAll(to run: History = .run) {
        for recorder in live.withLock({ Array($0.values) }) where recorder.count > 0 { recorder.publish(to: run) }
    }

    /// Shows this workload in the run's history (and so in the report and the artifacts), with the
    /// verdict of its last check; a later call replaces what an earlier one showed.
    public func publish(to run: History = .run, verdict: WorkloadVerdict? = nil) {
        let operations = history.operations
        var details = ["history": "history-\(number)", "ops": WorkloadTransport.encode(operations)]
        if let verdict { details.merge(verdict.details) { $1 } }
        let end = isLoaded ? created : operations.compactMap(\.time).max() ?? created
        let start = isLoaded ? created : min(created, operations.compactMap(\.time).min() ?? created)
        let existing = state.withLock { $0.eventID }
        if let existing {
            run.update(existing, end: end, details: details)
        } else {
            let id = run.begin(at: start, kind: "workload", name: "history-\(number)", targets: [], details: details)
            run.end(id, at: end)
            state.withLock { $0.eventID = id }
        }
    }
}

/// What a check said, as the report shows it.
public struct WorkloadVerdict: Sendable, Equatable {
    public var model: String
    public var valid: LinearizabilityResult.Validity
    /// Per key, the index of the operation that cannot be placed.
    public var failed: [String: Int]

    public init(model: String, result: LinearizabilityResult) {
        self.model = model
        valid = result.valid
        failed = result.keys.compactMapValues { $0.failedOperation?.index }
    }

    init(details: [String: String]) {
        model = details["model"] ?? ""
        valid = switch details["valid"] { case "true": .valid; case "false": .invalid; default: .unknown }
        failed = [:]
        for item in (details["failed"] ?? "").split(separator: "\n") {
            guard let tab = item.lastIndex(of: "\t"), let index = Int(item[item.index(after: tab)...]) else { continue }
            failed[String(item[..<tab])] = index
        }
    }

    var details: [String: String] {
        ["model": model, "valid": valid.text,
         "failed": failed.sorted { $0.key < $1.key }.map { "\($0.key)\t\($0.value)" }.joined(separator: "\n")]
    }
}

extension LinearizabilityResult.Validity {
    /// "true", "false" or "unknown", as scripts see it.
    public var text: String {
        switch self {
        case .valid: "true"
        case .invalid: "false"
        case .unknown: "unknown"
        }
    }
}

extension ClientOperation.Process {
    /// "3" or "nemesis".
    public var text: String {
        switch self {
        case .client(let p): String(p)
        case .named(let name): name
        }
    }
}

/// A workload as it is published in the run's history and read back by the report and the
/// artifacts.
public struct PublishedWorkload: Sendable {
    public var name: String
    public var operations: [ClientOperation]
    public var verdict: WorkloadVerdict?
    public var start: UInt64
    public var end: UInt64?

    /// The workloads among `events` (those of one test, say).
    public static func all(in events: [HistoryEvent]) -> [PublishedWorkload] {
        events.filter { $0.kind == "workload" }.compactMap { event in
            guard let ops = event.details["ops"], let operations = WorkloadTransport.decode(ops) else { return nil }
            return PublishedWorkload(name: event.details["history"] ?? event.name, operations: operations,
                                     verdict: event.details["valid"] == nil ? nil : WorkloadVerdict(details: event.details),
                                     start: event.start, end: event.end)
        }
    }
}

/// Faults in a workload's timeline: Jepsen records its nemesis as operations of a process named
/// "nemesis" whose outcome is `info`. Each fault (or nemesis schedule) of the run that overlaps the
/// workload becomes a `start-<name>` pair at its start and a `stop-<name>` pair at its end.
public enum WorkloadFaults {
    public static let process = ClientOperation.Process.named("nemesis")

    public static func operations(from events: [HistoryEvent], overlapping history: OperationHistory) -> [ClientOperation] {
        let times = history.operations.compactMap(\.time)
        guard let first = times.min(), let last = times.max() else { return [] }
        var out: [ClientOperation] = []
        for event in events where event.kind == "fault" && event.start <= last && (event.end ?? .max) >= first {
            var what = event.targets.joined(separator: ",")
            if let groups = event.details["groups"] { what = groups }
            let value = OperationValue.string(what)
            for (f, time) in [("start-\(event.name)", event.start), ("stop-\(event.name)", event.end)] {
                guard let time else { continue }
                out.append(ClientOperation(index: 0, kind: .invoke, process: process, f: f, value: value, time: time))
                out.append(ClientOperation(index: 0, kind: .info, process: process, f: f, value: value, time: time))
            }
        }
        return out
    }

    /// `history` with the overlapping faults of `events` merged in by time, renumbered.
    public static func merged(_ history: OperationHistory, events: [HistoryEvent]) -> OperationHistory {
        let faults = operations(from: events, overlapping: history)
        guard !faults.isEmpty else { return history }
        var all = history.operations
        // Stable: a fault at the same nanosecond as a client operation goes after it.
        var position = 0
        for fault in faults.sorted(by: { ($0.time ?? 0) < ($1.time ?? 0) }) {
            while position < all.count, (all[position].time ?? 0) <= (fault.time ?? 0) { position += 1 }
            all.insert(fault, at: position)
            position += 1
        }
        for i in all.indices { all[i].index = i }
        return OperationHistory(all)
    }
}

/// How a workload travels inside the run's history (one string detail of its event): the same
/// JSON lines `h:save` writes, so there is one encoding of an operation and its values.
public enum WorkloadTransport {
    public static func encode(_ operations: [ClientOperation]) -> String {
        String(decoding: OperationHistoryFormats.jsonLines(OperationHistory(operations)), as: UTF8.self)
    }

    public static func decode(_ text: String) -> [ClientOperation]? {
        try? OperationHistoryFormats.load(Data(text.utf8), format: .jsonLines).operations
    }
}
