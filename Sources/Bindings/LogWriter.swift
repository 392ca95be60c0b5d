import Foundation

/// Writes the scenario's log lines to stderr: "12:04:05.123 INFO  [step > substep] message".
/// One write(2) per line, so lines from concurrent branches never interleave mid-line.
public final class LogWriter {
    let level: LogLevel

    init(level: LogLevel) { self.level = level }

    func isEnabled(_ candidate: LogLevel) -> Bool { candidate >= level && candidate != .silent }

    func write(_ lineLevel: LogLevel, _ message: String, steps: [String]) {
        guard isEnabled(lineLevel) else { return }
        var line = Self.timestamp() + " " + lineLevel.label + " "
        if !steps.isEmpty { line += "[" + steps.joined(separator: " > ") + "] " }
        line += message
        if !line.hasSuffix("\n") { line += "\n" }
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }

    /// Local wall-clock time with milliseconds, as every log line starts (the CLI's progress lines too).
    public static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        let millis = Int(now.tv_nsec / 1_000_000)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)"
    }
}
