import Foundation
import Synchronization

/// One node's log, kept on the host in `<state>/<cluster>/<node>/logs/node.log` as
/// `TIMESTAMP TEXT` lines. A single follower per node streams the engine's log into it and resumes
/// after the last timestamp it wrote, so nothing is read twice, even across restarts and processes.
/// Marks are byte offsets into that file: they stay valid for as long as the cluster exists.
/// Waiters scan the file from their mark and sleep until the follower appends more.
public final class NodeLog: Sendable {
    public let file: URL
    private let runtime: any ContainerRuntime
    private let container: ContainerRef
    private let appended = ChangeSignal()

    private struct Follower {
        var task: Task<Void, Never>?
        /// Bumped by every `follow()`: a follower whose stream ended checks it to know whether the
        /// container was started again meanwhile and it must go on.
        var generation = 0
        var last: LogTimestamp?
        /// The newest lines written, exactly as written: a resumed stream may deliver them again
        /// (Podman gives a whole batch of lines one timestamp, so the time alone cannot tell).
        var recent = RecentLines(capacity: 256)
    }
    private let follower = Mutex(Follower())
    /// Wakes waiters when another process's follower writes the file (made on the first wait
    /// that finds no follower here).
    private let watcher = Mutex<FileWatcher?>(nil)

    public init(file: URL, runtime: any ContainerRuntime, container: ContainerRef) {
        self.file = file
        self.runtime = runtime
        self.container = container
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: file.path) {
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        }
        let tail = Self.lastLines(in: file)
        follower.withLock { f in
            for line in tail { _ = f.recent.insert(line) }
            f.last = tail.last.flatMap { line in line.firstIndex(of: " ").flatMap { LogTimestamp(String(line[..<$0])) } }
        }
    }

    deinit { follower.withLock { $0.task?.cancel() } }

    // MARK: Following

    /// Makes sure the engine's log is being copied into the file. Call after every start of the
    /// container; calling it while a follower runs is cheap.
    public func follow() {
        follower.withLock { f in
            f.generation += 1
            guard f.task == nil else { return }
            f.task = Task { [self] in await copyLoop() }
        }
    }

    /// Stops copying (the cluster is being removed or the process ends).
    public func stopFollowing() async {
        let task = follower.withLock { f -> Task<Void, Never>? in
            defer { f.task = nil }
            return f.task
        }
        task?.cancel()
        await task?.value
    }

    private func watchFile() {
        watcher.withLock { w in
            if w == nil { w = FileWatcher(path: file.path, signal: appended) }
        }
    }

    /// Whether this object is copying the engine's log right now.
    public var isFollowing: Bool { follower.withLock { $0.task != nil } }

    /// Whether some other follower (another process, or another `NodeLog` of the same file) is
    /// copying into the file: every follower holds a shared `flock` on it while it copies. A second
    /// follower would write the same lines again, so `ccm-lua logs` follows only when nobody does.
    public func isFollowedElsewhere() -> Bool {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) != 0
    }

    /// Copies what the engine logged since the last line in the file, once, without following:
    /// for a reader of a kept cluster whose script has ended. Does nothing while a follower runs.
    public func catchUp() async {
        guard !isFollowing, !isFollowedElsewhere(), let out = openForAppend() else { return }
        defer { try? out.close() }
        let since = follower.withLock { $0.last }
        do {
            for try await line in runtime.logs(container, since: since?.text, follow: false) { append(line, after: since, to: out) }
        } catch {
            // The container is gone or the engine does not answer: the file is all there is.
        }
    }

    /// The file, positioned at its end, with the followers' shared lock taken.
    private func openForAppend() -> FileHandle? {
        guard let out = try? FileHandle(forWritingTo: file) else { return nil }
        _ = flock(out.fileDescriptor, LOCK_SH)
        _ = try? out.seekToEnd()
        return out
    }

    private func copyLoop() async {
        guard let out = openForAppend() else { return }
        defer { try? out.close() }
        while !Task.isCancelled {
            let (since, generation) = follower.withLock { ($0.last, $0.generation) }
            do {
                for try await line in runtime.logs(container, since: since?.text, follow: true) {
                    append(line, after: since, to: out)
                }
            } catch {
                // The container went away or the engine stream broke; a later follow() restarts us.
            }
            let done = follower.withLock { f -> Bool in
                if f.generation != generation { return false }
                f.task = nil
                return true
            }
            if done { return }
        }
    }

    /// Appends one line unless this follower wrote it already: lines older than where the stream
    /// resumed, or one of the newest lines delivered again. Within a stream order is not checked:
    /// Podman interleaves stdout and stderr with timestamps slightly out of order.
    private func append(_ line: LogLine, after since: LogTimestamp?, to out: FileHandle) {
        let stamp = LogTimestamp(line.timestamp)
        if let stamp, let since, stamp < since { return }
        let text = line.text.replacingOccurrences(of: "\n", with: " ")
        let entry = "\(line.timestamp) \(text)"
        let fresh = follower.withLock { f -> Bool in
            guard f.recent.insert(entry) else { return false }
            if let stamp, f.last.map({ $0 < stamp }) ?? true { f.last = stamp }
            return true
        }
        guard fresh else { return }
        try? out.write(contentsOf: Data((entry + "\n").utf8))
        appended.signal()
    }

    // MARK: Reading

    /// The current end of the log: only lines written after it count for a wait `from` it.
    public func mark() -> Int64 { Int64((try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0) }

    /// Waits until `count` lines after `from` match, returning their text (without timestamps).
    /// Throws `.timeout` with the last lines seen.
    public func wait(for pattern: LogPattern, from: Int64 = 0, count: Int = 1, timeout: Double,
                     nodeName: String) async throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(timeout)
        if !isFollowing { watchFile() }
        let matches = pattern.matcher()
        var offset = from
        var found: [String] = []
        while true {
            let seen = appended.version
            let (lines, end) = try readLines(from: offset)
            offset = end
            for line in lines where matches(line) {
                found.append(line)
                if found.count == count { return found }
            }
            guard await appended.wait(after: seen, until: deadline) else {
                try Task.checkCancellation()
                let have = found.isEmpty ? "" : " (\(found.count) of \(count) seen)"
                throw ClusterError(.timeout, "\(nodeName): no log line matching '\(pattern.source)' within \(formatSeconds(timeout))\(have)",
                                   node: nodeName, lastLines: tail(10))
            }
        }
    }

    /// The text of every line after `from` that matches.
    public func grep(_ pattern: LogPattern, from: Int64 = 0) throws -> [String] {
        let matches = pattern.matcher()
        return try readLines(from: from).lines.filter { matches($0) }
    }

    /// The last `count` lines' text (with `timestamps`, as stored).
    public func tail(_ count: Int, timestamps: Bool = false) -> [String] {
        let size = mark()
        var window: Int64 = 16 * 1024
        while true {
            let start = max(0, size - window)
            guard var lines = try? readLines(from: start, timestamps: timestamps).lines else { return [] }
            if start > 0 { lines.removeFirst() }  // probably cut in the middle
            if lines.count >= count || start == 0 { return Array(lines.suffix(count)) }
            window *= 4
        }
    }

    /// Complete lines from `offset` to the end and the offset just past the last one, for readers
    /// that print the log as it grows (`ccm-lua logs -f`); with `timestamps`, as stored.
    public func read(from offset: Int64, timestamps: Bool = false) throws -> (lines: [String], end: Int64) {
        try readLines(from: offset, timestamps: timestamps)
    }

    /// Complete lines from `offset` to the end, as text without the timestamp, and the offset just
    /// past the last complete line (a line still being written is left for next time).
    private func readLines(from offset: Int64, timestamps: Bool = false) throws -> (lines: [String], end: Int64) {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(max(0, offset)))
        let data = try handle.readToEnd() ?? Data()
        guard let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) else { return ([], offset) }
        let complete = data[data.startIndex...lastNewline]
        let lines = complete.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().map { raw -> String in
            let text = String(decoding: raw, as: UTF8.self)
            guard !timestamps, let space = text.firstIndex(of: " "), LogTimestamp(String(text[..<space])) != nil else { return text }
            return String(text[text.index(after: space)...])
        }
        return (lines, offset + Int64(complete.count))
    }

    /// The file's last lines (up to 64 KiB of them), where a follower resumes.
    private static func lastLines(in file: URL) -> [String] {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 65536 ? size - 65536 : 0)
        let data = (try? handle.readToEnd()) ?? Data()
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        if size > 65536, !lines.isEmpty { lines.removeFirst() }   // probably cut in the middle
        return lines
    }
}

/// A bounded set of the most recent lines, oldest forgotten first.
struct RecentLines {
    private var order: [String] = []
    private var members: Set<String> = []
    private var next = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Adds `line`; false if it is already among the recent ones.
    mutating func insert(_ line: String) -> Bool {
        guard !members.contains(line) else { return false }
        if order.count < capacity {
            order.append(line)
        } else {
            members.remove(order[next])
            order[next] = line
            next = (next + 1) % capacity
        }
        members.insert(line)
        return true
    }
}

/// A log pattern: Swift Regex syntax, or a literal string with `plain`.
public struct LogPattern: Sendable {
    public let source: String
    public let plain: Bool

    public init(_ source: String, plain: Bool = false) throws {
        self.source = source
        self.plain = plain
        if !plain {
            do { _ = try Regex(source) } catch {
                throw ClusterError(.usage, "invalid log pattern '\(source)': \(error) (pass plain = true to match it literally)")
            }
        }
    }

    /// A match function with the regex compiled once (Regex itself is not Sendable, so it is
    /// made where it is used).
    public func matcher() -> (String) -> Bool {
        if plain { let literal = source; return { $0.contains(literal) } }
        guard let regex = try? Regex(source) else { return { _ in false } }
        return { $0.contains(regex) }
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
}
