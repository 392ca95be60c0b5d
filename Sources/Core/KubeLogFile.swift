/// Podman's `k8s-file` container log, as conmon writes it on the host: one record a line,
/// `TIMESTAMP STREAM TAG TEXT`, e.g. `2026-11-21T20:55:09.287771478+00:00 stdout F hello`. A line
/// the container printed in pieces (a long line, or output without a newline yet) comes as `P`
/// (partial) records ended by an `F` (full) one of the same stream.
///
/// Reading this file directly is how a local Podman's log is followed with low latency:
/// `podman logs --follow` polls the file every 250 ms, which puts 125 ms on average between a line
/// and a log wait seeing it.
struct KubeLogReader {
    private var pending: [UInt8] = []
    /// Pieces of a line still being printed, per stream: the first piece's timestamp and the text.
    private var partial: [String: (timestamp: String, text: String)] = [:]

    /// Takes the next bytes of the file; returns the lines they complete, in file order. A
    /// record cut off at the end of `bytes` is kept for the next call.
    mutating func feed(_ bytes: some Collection<UInt8>) -> [LogLine] {
        pending.append(contentsOf: bytes)
        guard let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        var lines: [LogLine] = []
        for record in pending[..<lastNewline].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            if let line = take(record) { lines.append(line) }
        }
        pending.removeSubrange(...lastNewline)
        return lines
    }

    /// One record: a whole line, or nil while it is a piece of one.
    private mutating func take(_ record: ArraySlice<UInt8>) -> LogLine? {
        let text = String(decoding: record, as: UTF8.self)
        guard let parsed = Self.parse(text[...]) else {
            return LogLine(timestamp: "", text: text)   // not a record (should not happen)
        }
        var timestamp = parsed.timestamp
        var line = parsed.text
        if let earlier = partial.removeValue(forKey: parsed.stream) {
            timestamp = earlier.timestamp
            line = earlier.text + line
        }
        if parsed.partial {
            partial[parsed.stream] = (timestamp, line)
            return nil
        }
        return LogLine(timestamp: timestamp, text: line, isStderr: parsed.stream == "stderr")
    }

    /// `TIMESTAMP STREAM TAG TEXT` (TEXT may be empty); TAG is `F` or `P`, possibly followed by
    /// `:`-separated flags.
    static func parse(_ record: Substring) -> (timestamp: String, stream: String, partial: Bool, text: String)? {
        let fields = record.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 3, CLIOutput.isTimestamp(fields[0]) else { return nil }
        let tag = fields[2].split(separator: ":").first ?? ""
        guard tag == "F" || tag == "P" else { return nil }
        return (String(fields[0]), String(fields[1]), tag == "P", fields.count == 4 ? String(fields[3]) : "")
    }
}
