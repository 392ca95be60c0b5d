import Foundation

/// `history.jsonl`: a run's history, one JSON object per operation, in the order they began.
///
///     {"id":3,"kind":"exec","name":"etcdctl get k","node":"node1","cluster":"c","targets":["node1"],
///      "details":{"cluster":"c"},"start":81234000000,"end":81298000000,"result":"exit 0"}
///
/// `start`/`end` are CLOCK_MONOTONIC nanoseconds (one clock for every process of the machine, so
/// the files of parallel workers merge); `end` is missing for what never ended (a fault still
/// active when the process died); `error` is the kind of the error an operation failed with.
public enum HistoryFile {
    /// What each line holds; `node` and `cluster` are repeated from `targets`/`details` for readers.
    struct Line: Codable {
        var id: Int
        var kind: String
        var name: String
        var node: String?
        var cluster: String?
        var targets: [String]
        var details: [String: String]
        var start: UInt64
        var end: UInt64?
        var result: String?
        var error: String?
        var file: String?
    }

    public static func encode(_ events: [HistoryEvent]) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for event in events.sorted(by: { ($0.start, $0.id) < ($1.start, $1.id) }) {
            let line = Line(id: event.id, kind: event.kind, name: event.name, node: event.node, cluster: event.cluster,
                            targets: event.targets, details: event.details, start: event.start, end: event.end,
                            result: event.result, error: event.error, file: event.file)
            guard let encoded = try? encoder.encode(line) else { continue }
            data.append(encoded)
            data.append(0x0A)
        }
        return data
    }

    /// Lines that do not parse (a worker killed half-way through writing) are skipped.
    public static func decode(_ data: Data) -> [HistoryEvent] {
        let decoder = JSONDecoder()
        return data.split(separator: 0x0A).compactMap { raw in
            guard let line = try? decoder.decode(Line.self, from: Data(raw)) else { return nil }
            return HistoryEvent(id: line.id, kind: line.kind, name: line.name, targets: line.targets, details: line.details,
                                start: line.start, end: line.end, result: line.result, error: line.error, file: line.file)
        }
    }

    public static func write(_ events: [HistoryEvent], to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try writeAtomically(encode(events), to: url)
    }

    public static func read(_ url: URL) throws -> [HistoryEvent] { decode(try Data(contentsOf: url)) }

    /// The histories of several workers as one: each event names its file, ids are renumbered
    /// so they stay unique, and everything is in the order it began.
    public static func gather(_ parts: [(file: String, events: [HistoryEvent])]) -> [HistoryEvent] {
        var all: [HistoryEvent] = []
        for (file, events) in parts {
            for var event in events {
                event.file = event.file ?? file
                all.append(event)
            }
        }
        all.sort { ($0.start, $0.id) < ($1.start, $1.id) }
        for i in all.indices { all[i].id = i + 1 }
        return all
    }

    /// What happened during one test: the events of its file that began while it ran.
    public static func events(of test: HistoryEvent, in all: [HistoryEvent]) -> [HistoryEvent] {
        let end = test.end ?? UInt64.max
        return all.filter { $0.kind != "test" && $0.file == test.file && $0.start >= test.start && $0.start <= end }
    }

    // MARK: Written when the process ends

    nonisolated(unsafe) private static var exitPath: String?

    /// Writes this process's history (`History.run`) to `path` when it exits through `exit`
    /// (a normal end, an error, Ctrl-C, SIGTERM). A SIGKILL leaves no file.
    public static func writeAtExit(to path: String) {
        let first = exitPath == nil
        exitPath = path
        guard first else { return }
        atexit {
            guard let path = HistoryFile.exitPath else { return }
            WorkloadRecorder.publishAll()
            do { try HistoryFile.write(History.run.events, to: URL(fileURLWithPath: path)) } catch {
                FileHandle.standardError.write(Data("ccm-lua: cannot write the history to \(path): \(error.localizedDescription)\n".utf8))
            }
        }
    }

    /// `CCM_LUA_HISTORY`: where a plain `ccm-lua FILE` run writes its history.
    public static let variable = "CCM_LUA_HISTORY"
}
