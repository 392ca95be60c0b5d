import Foundation
import Synchronization

/// One node's log, kept on the host in `<state>/<cluster>/<node>/logs/node.log` as
/// `TIMESTAMP TEXT` lines. A single follower per node streams the engine's log into it and resumes
/// at the last timestamp it wrote, skipping the lines of that timestamp it has already: nothing is
/// read twice or lost, even across restarts and processes, and even when the engine gives a whole
/// batch of lines one timestamp (Podman does).
/// Marks are byte offsets into that file: they stay valid for as long as the cluster exists.
/// Waiters scan the file from their mark and sleep until the follower appends more.
public final class NodeLog: Sendable {
    public let file: URL
    /// The cluster it belongs to, for the history ("" when unknown).
    public let cluster: String
    private let runtime: any ContainerRuntime
    private let container: ContainerRef
    private let appended = ChangeSignal()

    private struct Follower {
        var task: Task<Void, Never>?
        /// Bumped by every `follow()`: a follower whose stream ended checks it to know whether the
        /// container was started again meanwhile and it must go on.
        var generation = 0
        /// Where the file stands: its newest timestamp and how many lines carry exactly it.
        var position = LogPosition()
    }
    private let follower = Mutex(Follower())
    /// Wakes waiters when another process's follower writes the file (made on the first wait
    /// that finds no follower here).
    private let watcher = Mutex<FileWatcher?>(nil)

    public init(file: URL, runtime: any ContainerRuntime, container: ContainerRef, cluster: String = "") {
        self.file = file
        self.cluster = cluster
        self.runtime = runtime
        self.container = container
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: file.path) {
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        }
        let position = Self.position(of: file)
        follower.withLock { $0.position = position }
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
        var resume = follower.withLock { $0.position.resume() }
        do {
            for try await line in runtime.logs(container, since: resume.since, follow: false) { append(line, resume: &resume, to: out) }
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
            var (resume, generation) = follower.withLock { ($0.position.resume(), $0.generation) }
            do {
                for try await line in runtime.logs(container, since: resume.since, follow: true) {
                    append(line, resume: &resume, to: out)
                }
            } catch {
                // The container went away or the engine stream broke; a later follow() restarts us.
            }
            let done = follower.withLock { f -> Bool in
                if f.generation != generation { return false }
                f.task = nil
                return true
            }
            // The stream ends with the container: waiters look whether it stopped.
            if done { appended.signal(); return }
        }
    }

    /// Appends one line unless the file has it already: older than where the stream resumed, or
    /// one of the lines of exactly that time the file ends with. Within a stream order is not
    /// checked: Podman interleaves stdout and stderr with timestamps slightly out of order.
    private func append(_ line: LogLine, resume: inout LogPosition.Resume, to out: FileHandle) {
        let stamp = LogTimestamp(line.timestamp)
        guard resume.admits(stamp) else { return }
        let text = line.text.replacingOccurrences(of: "\n", with: " ")
        follower.withLock { $0.position.wrote(stamp) }
        try? out.write(contentsOf: Data("\(line.timestamp) \(text)\n".utf8))
        appended.signal()
    }

    // MARK: Reading

    /// The current end of the log: only lines written after it count for a wait `from` it.
    public func mark() -> Int64 { Int64((try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0) }

    /// Waits until `count` lines after `from` match, returning their text (without timestamps).
    /// Throws `.timeout` with the last lines seen, or `.exited` as soon as the node's container
    /// has stopped (it prints nothing more until started again).
    public func wait(for pattern: LogPattern, from: Int64 = 0, count: Int = 1, timeout: Double = Defaults.waitLogTimeout,
                     nodeName: String) async throws -> [String] {
        try await History.run.record(kind: "wait", name: pattern.source, targets: [nodeName], details: ["cluster": cluster]) {
            try await waitUnrecorded(for: pattern, from: from, count: count, timeout: timeout, nodeName: nodeName)
        }
    }

    private func waitUnrecorded(for pattern: LogPattern, from: Int64, count: Int, timeout: Double,
                                nodeName: String) async throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(timeout)
        if !isFollowing { watchFile() }
        let matches = pattern.matcher()
        var offset = from
        var found: [String] = []
        var nextStateCheck = ContinuousClock.now
        while true {
            let seen = appended.version
            let following = isFollowing
            let (lines, end) = try readLines(from: offset)
            offset = end
            for line in lines where matches(line) {
                found.append(line)
                if found.count == count { return found }
            }
            let have = found.isEmpty ? "" : " (\(found.count) of \(count) seen)"
            // A follower here ends with the container and says so; without one (another process
            // follows, or nobody) the container's state is read now and then.
            if !following, ContinuousClock.now >= nextStateCheck {
                if let exitCode = try await stoppedWithLastLines() {
                    // Its last lines may be the ones awaited.
                    for line in try readLines(from: offset).lines where matches(line) {
                        found.append(line)
                        if found.count == count { return found }
                    }
                    throw exited(nodeName, code: exitCode, waitingFor: "a log line matching '\(pattern.source)'\(have)")
                }
                nextStateCheck = ContinuousClock.now + Self.stateCheckInterval
            }
            let wake = following ? deadline : min(deadline, nextStateCheck)
            if await appended.wait(after: seen, until: wake) { continue }
            try Task.checkCancellation()
            guard ContinuousClock.now >= deadline else { continue }
            throw ClusterError(.timeout, "\(nodeName): no log line matching '\(pattern.source)' within \(formatSeconds(timeout))\(have)",
                               node: nodeName, lastLines: tail(10))
        }
    }

    /// How often a wait without a follower in this process reads the container's state.
    static let stateCheckInterval: Duration = .seconds(1)

    /// Throws `.exited` when the node's container ran and stopped. A container never started
    /// (`created`) is not judged: a parallel branch may be about to start it.
    func failIfStopped(nodeName: String, waitingFor what: String) async throws {
        if let code = try await stoppedWithLastLines() { throw exited(nodeName, code: code, waitingFor: what) }
    }

    /// The exit code when the container ran and stopped, once the last lines it printed are in
    /// the file (they are the reason); nil while it runs or was never started.
    private func stoppedWithLastLines() async throws -> Int32? {
        let info = try await runtime.inspect(container)
        guard info.state == .exited || info.state == .dead else { return nil }
        if isFollowing { await stopFollowingIfEnded() } else { await catchUp() }
        return info.exitCode
    }

    private func exited(_ nodeName: String, code: Int32, waitingFor what: String) -> ClusterError {
        ClusterError(.exited, "\(nodeName): its container exited with code \(code) while waiting for \(what); the last lines say why",
                     node: nodeName, lastLines: tail(10), exitCode: code)
    }

    /// Waits for a follower whose stream is ending (the container stopped) to write its last lines.
    private func stopFollowingIfEnded() async {
        let task = follower.withLock { $0.task }
        guard let task else { return }
        // Bounded: a follower of a container that runs again goes on; its lines are not needed.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await task.value }
            group.addTask { try? await Task.sleep(for: .seconds(2)) }
            await group.next()
            group.cancelAll()
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

    /// Where a follower resumes: the newest timestamp in the file and how many lines carry it.
    /// Read from the end, in growing windows until one holds a line older than the newest (a
    /// batch of one timestamp may be long).
    static func position(of file: URL) -> LogPosition {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return LogPosition() }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        var window: UInt64 = 65536
        while true {
            let start = size > window ? size - window : 0
            try? handle.seek(toOffset: start)
            let data = (try? handle.readToEnd()) ?? Data()
            var lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
            if start > 0, !lines.isEmpty { lines.removeFirst() }   // probably cut in the middle
            var position = LogPosition()
            for line in lines {
                position.wrote(line.firstIndex(of: " ").flatMap { LogTimestamp(String(line[..<$0])) })
            }
            // Out-of-order stamps are a few lines apart at most: one older line before the
            // newest batch shows the whole batch is in the window.
            if start == 0 || lines.count > position.linesAtNewest { return position }
            window *= 4
        }
    }
}

/// How far a log file goes, so a stream resumes by position rather than by content: two lines of
/// equal time and text are two lines (a program printing the same line twice in one batch).
struct LogPosition: Equatable {
    /// The newest timestamp written.
    var newest: LogTimestamp?
    /// How many lines with exactly `newest` were written.
    var linesAtNewest = 0

    mutating func wrote(_ stamp: LogTimestamp?) {
        guard let stamp else { return }
        if let newest, stamp < newest { return }
        if newest == stamp { linesAtNewest += 1 } else { newest = stamp; linesAtNewest = 1 }
    }

    /// The filter of a stream that resumes here.
    func resume() -> Resume { Resume(from: newest, skip: linesAtNewest) }

    struct Resume {
        let from: LogTimestamp?
        /// Lines stamped exactly `from` still to pass over: the file has them.
        var skip: Int

        /// What to ask the engine for: everything from `from` on, `from` itself included. The
        /// runtime's `since` is exclusive, so this asks from one nanosecond before.
        var since: String? { from.map { $0.advanced(byNanoseconds: -1).text } }

        /// Whether a line of the resumed stream is new to the file.
        mutating func admits(_ stamp: LogTimestamp?) -> Bool {
            guard let from, let stamp else { return true }
            if stamp < from { return false }
            if stamp == from, skip > 0 { skip -= 1; return false }
            return true
        }
    }
}

extension LogTimestamp {
    /// This time moved by `delta` ns, written as RFC 3339 with nine digits in the zone offset the
    /// engine used (so it reads back as the same kind of timestamp).
    func advanced(byNanoseconds delta: Int64) -> LogTimestamp {
        let zone = text.count > 19 ? String(text.dropFirst(19).drop { $0 == "." || $0.isNumber }) : "Z"
        var offset: Int64 = 0
        if zone.count == 6, let sign = zone.first, sign == "+" || sign == "-",
           let h = Int64(zone.dropFirst().prefix(2)), let m = Int64(zone.suffix(2)) {
            offset = (h * 3600 + m * 60) * (sign == "+" ? 1 : -1)
        }
        // Local wall-clock nanoseconds since 1970 in that offset.
        let total = (seconds + offset) * 1_000_000_000 + Int64(nanos) + delta
        let secs = total >= 0 ? total / 1_000_000_000 : (total - 999_999_999) / 1_000_000_000
        let fraction = total - secs * 1_000_000_000
        let days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        let rest = secs - days * 86400
        let (y, mo, d) = Self.civil(fromDays: days)
        let body = String(format: "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09lld", y, mo, d, rest / 3600, rest % 3600 / 60, rest % 60, fraction)
        return LogTimestamp(body + (zone.isEmpty ? "Z" : zone))!
    }

    /// Year, month, day of a day count since 1970-01-01 (H. Hinnant's algorithm).
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
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
