/// An engine log timestamp (RFC 3339 with nanoseconds), comparable. The engines trim trailing zeros
/// and may print a zone offset, so the strings themselves do not sort; these values do.
public struct LogTimestamp: Sendable, Comparable, CustomStringConvertible {
    public let seconds: Int64   // since 1970-01-01T00:00:00Z
    public let nanos: Int32
    public let text: String     // as the engine printed it, to hand back as `--since`

    public static func < (a: LogTimestamp, b: LogTimestamp) -> Bool { (a.seconds, a.nanos) < (b.seconds, b.nanos) }
    public static func == (a: LogTimestamp, b: LogTimestamp) -> Bool { a.seconds == b.seconds && a.nanos == b.nanos }
    public var description: String { text }

    /// Parses `2026-11-21T20:12:06.123456789Z` or `...06.1234+01:00`; nil for anything else.
    public init?(_ text: String) {
        let u = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= u.count else { return nil }
            var n = 0
            for c in u[from..<from + count] { guard c >= 48 && c <= 57 else { return nil }; n = n * 10 + Int(c - 48) }
            return n
        }
        guard u.count >= 20, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2) else { return nil }
        var i = 19
        var nanos = 0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int(u[i] - 48); digits += 1 }
                i += 1
            }
            for _ in digits..<9 { nanos *= 10 }
        }
        var offset = 0
        if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            guard let oh = number(i + 1, 2), let om = number(i + 4, 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (u[i] == UInt8(ascii: "+") ? 1 : -1)
        } else if !(i < u.count && u[i] == UInt8(ascii: "Z")) {
            return nil
        }
        let days = Self.daysFromCivil(year, month, day)
        self.seconds = Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second - offset)
        self.nanos = Int32(nanos)
        self.text = text
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    private static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
