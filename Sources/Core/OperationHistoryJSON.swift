/// ccm-lua's own history format: JSON lines, one object per event, keys in this order:
/// `{"index":0,"type":"invoke","process":0,"f":"write","key":"a","value":3,"time":1200,"error":"..."}`
/// - `type`: "invoke", "ok", "fail" or "info";
/// - `process`: an integer for a client, a string for anything else ("nemesis");
/// - `key`, `time` (monotonic nanoseconds) and `error` are left out when absent;
/// - `value`: any JSON; null is no value. A number with a fraction or exponent is a double, any
///   other number an integer.
enum OperationHistoryJSON {
    static func write(_ operation: ClientOperation) -> String {
        var out = "{\"index\":\(operation.index),\"type\":\"\(operation.kind.rawValue)\",\"process\":"
        switch operation.process {
        case .client(let number): out += String(number)
        case .named(let name): out += quoted(name)
        }
        out += ",\"f\":" + quoted(operation.f)
        if let key = operation.key { out += ",\"key\":" + quoted(key) }
        out += ",\"value\":" + write(operation.value)
        if let time = operation.time { out += ",\"time\":\(time)" }
        if let error = operation.error { out += ",\"error\":" + quoted(error) }
        return out + "}"
    }

    static func write(_ value: OperationValue) -> String {
        switch value {
        case .none: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .double(let number):
            guard number.isFinite else { return "null" } // JSON has no NaN or infinity
            let text = String(number)
            return text.contains(".") || text.contains("e") ? text : text + ".0"
        case .string(let text): return quoted(text)
        case .list(let items): return "[" + items.map(write).joined(separator: ",") + "]"
        case .map(let entries):
            return "{" + entries.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + write($0.value) }
                .joined(separator: ",") + "}"
        }
    }

    /// JSON's string quoting, shared with the config writer.
    static func quoted(_ text: String) -> String { JSONWriter.quote(text) }

    /// One line to an operation; `position` is its place in the file, the index when the line has none.
    static func operation(_ line: Substring, position: Int, lineNumber: Int) throws -> ClientOperation {
        var parser = Parser(Array(line.utf8))
        let object: OperationValue
        do {
            object = try parser.value()
            try parser.end()
        } catch let error as Parser.Failure {
            throw OperationHistoryFormats.ReadError(line: lineNumber, message: "not JSON: \(error.message) at column \(error.offset + 1)")
        }
        guard case .map(let fields) = object else {
            throw OperationHistoryFormats.ReadError(line: lineNumber, message: "expected a JSON object with \"type\", \"process\" and \"f\"")
        }
        func fail(_ message: String) -> OperationHistoryFormats.ReadError { .init(line: lineNumber, message: message) }
        guard case .string(let type)? = fields["type"], let kind = ClientOperation.Kind(rawValue: type) else {
            throw fail("\"type\" must be \"invoke\", \"ok\", \"fail\" or \"info\"")
        }
        let process: ClientOperation.Process
        switch fields["process"] {
        case .integer(let number)?: process = .client(Int(number))
        case .string(let name)?: process = .named(name)
        default: throw fail("\"process\" must be an integer (a client) or a string (e.g. \"nemesis\")")
        }
        guard case .string(let f)? = fields["f"] else { throw fail("\"f\" must be a string such as \"read\"") }
        var key: String? = nil
        switch fields["key"] {
        case nil, .none?: break
        case .string(let text)?: key = text
        case .integer(let number)?: key = String(number)
        default: throw fail("\"key\" must be a string")
        }
        var index = position
        if case .integer(let number)? = fields["index"] { index = Int(number) }
        var time: UInt64? = nil
        switch fields["time"] {
        case nil, .none?: break
        case .integer(let ns)? where ns >= 0: time = UInt64(ns)
        default: throw fail("\"time\" must be a whole number of nanoseconds")
        }
        var error: String? = nil
        switch fields["error"] {
        case nil, .none?: break
        case .string(let text)?: error = text
        case let other?: error = write(other)
        }
        return ClientOperation(index: index, kind: kind, process: process, f: f, key: key,
                               value: fields["value"] ?? .none, time: time, error: error)
    }

    /// A small JSON reader that keeps integers and doubles apart (Foundation's does not say which).
    struct Parser {
        struct Failure: Error { var message: String; var offset: Int }
        let bytes: [UInt8]
        var at = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func end() throws {
            skipSpace()
            if at < bytes.count { throw Failure(message: "unexpected text after the object", offset: at) }
        }

        private mutating func skipSpace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x09 || bytes[at] == 0x0D || bytes[at] == 0x0A { at += 1 }
        }

        mutating func value() throws -> OperationValue {
            skipSpace()
            guard at < bytes.count else { throw Failure(message: "the line ends where a value was expected", offset: at) }
            switch bytes[at] {
            case UInt8(ascii: "{"):
                at += 1
                var entries: [String: OperationValue] = [:]
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .map(entries) }
                while true {
                    skipSpace()
                    guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw Failure(message: "expected a quoted key", offset: at) }
                    let key = try string()
                    skipSpace()
                    guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw Failure(message: "expected ':'", offset: at) }
                    at += 1
                    entries[key] = try value()
                    skipSpace()
                    guard at < bytes.count else { throw Failure(message: "expected ',' or '}'", offset: at) }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    if bytes[at] == UInt8(ascii: "}") { at += 1; return .map(entries) }
                    throw Failure(message: "expected ',' or '}'", offset: at)
                }
            case UInt8(ascii: "["):
                at += 1
                var items: [OperationValue] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .list(items) }
                while true {
                    items.append(try value())
                    skipSpace()
                    guard at < bytes.count else { throw Failure(message: "expected ',' or ']'", offset: at) }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    if bytes[at] == UInt8(ascii: "]") { at += 1; return .list(items) }
                    throw Failure(message: "expected ',' or ']'", offset: at)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            default:
                let start = at
                while at < bytes.count, !" \t\r\n,]}".utf8.contains(bytes[at]) { at += 1 }
                let word = String(decoding: bytes[start..<at], as: UTF8.self)
                switch word {
                case "null": return .none
                case "true": return .bool(true)
                case "false": return .bool(false)
                default:
                    if let number = Int64(word) { return .integer(number) }
                    if let first = word.first, first == "-" || first.isNumber, let number = Double(word) { return .double(number) }
                    throw Failure(message: "unexpected '\(word)'", offset: start)
                }
            }
        }

        private mutating func string() throws -> String {
            at += 1
            var out: [UInt8] = []
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if byte != UInt8(ascii: "\\") { out.append(byte); continue }
                guard at < bytes.count else { break }
                let escaped = bytes[at]
                at += 1
                switch escaped {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), at + 6 <= bytes.count,
                       bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") {
                        at += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw Failure(message: "a lone surrogate in a \\u escape", offset: at) }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw Failure(message: "bad \\u escape", offset: at) }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: out.append(escaped)
                }
            }
            throw Failure(message: "a string is not closed", offset: at)
        }

        private mutating func hex4() throws -> UInt32 {
            guard at + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16)
            else { throw Failure(message: "a \\u escape needs four hex digits", offset: at) }
            at += 4
            return code
        }
    }
}
