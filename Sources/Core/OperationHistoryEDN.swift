/// Jepsen's EDN op maps, one per line: `{:process 0, :type :invoke, :f :write, :value 3, :time 12}`.
///
/// Reading: the EDN Jepsen writes — nil, booleans, integers (`N` suffix too), floats, strings,
/// keywords and symbols (both become strings), vectors, lists, sets (as lists), maps, tagged values
/// (`#inst "..."`, read as their value), `;` comments and `#_` discards; commas are whitespace. A file
/// may also be one vector of op maps. Keys other than :index, :type, :process, :f, :key, :value, :time
/// and :error are ignored.
///
/// Writing: what Knossos and elle-cli read — :type and :f as keywords, an integer :process or a
/// keyword (`:nemesis`), :time in nanoseconds.
public enum OperationHistoryEDN {
    /// An EDN value as read. Keywords and symbols are kept apart from strings only while reading op
    /// maps (`:type :ok`); in an operation's value they become strings.
    indirect enum Value: Equatable {
        case value(OperationValue)
        case keyword(String)
        case symbol(String)
        case vector([Value])
        case map([(Value, Value)])

        static func == (a: Value, b: Value) -> Bool {
            switch (a, b) {
            case (.value(let x), .value(let y)): x == y
            case (.keyword(let x), .keyword(let y)), (.symbol(let x), .symbol(let y)): x == y
            case (.vector(let x), .vector(let y)): x == y
            case (.map(let x), .map(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            default: false
            }
        }

        /// As an operation value: keywords and symbols become their names, maps get string keys.
        var operationValue: OperationValue {
            switch self {
            case .value(let value): value
            case .keyword(let name), .symbol(let name): .string(name)
            case .vector(let items): .list(items.map(\.operationValue))
            case .map(let pairs):
                .map(Dictionary(pairs.map { ($0.0.keyText, $0.1.operationValue) }, uniquingKeysWith: { _, last in last }))
            }
        }

        var keyText: String {
            switch self {
            case .keyword(let name), .symbol(let name): name
            case .value(.string(let text)): text
            default: OperationHistoryEDN.write(operationValue)
            }
        }
    }

    struct ParseError: Error { var message: String; var offset: Int }

    // MARK: Reading

    /// Reads every top-level form of `text`.
    static func readAll(_ text: Substring) throws -> [Value] {
        var reader = Reader(Array(text.utf8))
        var forms: [Value] = []
        while let form = try reader.next() { forms.append(form) }
        return forms
    }

    /// Reads every top-level form of `bytes` with the byte offset where it starts.
    static func readAll(bytes: [UInt8]) throws -> [(form: Value, offset: Int)] {
        var reader = Reader(bytes)
        var forms: [(Value, Int)] = []
        while true {
            reader.skipSpace()
            let offset = reader.at
            guard let form = try reader.next() else { return forms }
            forms.append((form, offset))
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var at = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        /// The next form, or nil at the end.
        mutating func next() throws -> Value? {
            skipSpace()
            if at >= bytes.count { return nil }
            return try form()
        }

        mutating func skipSpace() {
            while at < bytes.count {
                let byte = bytes[at]
                if byte == 0x20 || byte == 0x2C || byte == 0x0A || byte == 0x0D || byte == 0x09 { at += 1; continue }
                if byte == 0x3B { // ; comment to the end of the line
                    while at < bytes.count && bytes[at] != 0x0A { at += 1 }
                    continue
                }
                break
            }
        }

        private func fail(_ message: String) -> ParseError { ParseError(message: message, offset: at) }

        private mutating func form() throws -> Value {
            skipSpace()
            guard at < bytes.count else { throw fail("the text ends where a value was expected") }
            switch bytes[at] {
            case UInt8(ascii: "{"):
                at += 1
                let items = try sequence(until: UInt8(ascii: "}"))
                guard items.count % 2 == 0 else { throw fail("a map needs an even number of forms (key value ...)") }
                return .map(stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) })
            case UInt8(ascii: "["):
                at += 1
                return .vector(try sequence(until: UInt8(ascii: "]")))
            case UInt8(ascii: "("):
                at += 1
                return .vector(try sequence(until: UInt8(ascii: ")")))
            case UInt8(ascii: "\""):
                return .value(.string(try string()))
            case UInt8(ascii: ":"):
                at += 1
                let name = token()
                guard !name.isEmpty else { throw fail("':' must start a keyword such as :ok") }
                return .keyword(name)
            case UInt8(ascii: "#"):
                at += 1
                guard at < bytes.count else { throw fail("the text ends after '#'") }
                if bytes[at] == UInt8(ascii: "{") {
                    at += 1
                    return .vector(try sequence(until: UInt8(ascii: "}")))
                }
                if bytes[at] == UInt8(ascii: "_") {
                    at += 1
                    _ = try form()
                    return try form()
                }
                let tag = token() // a tag such as #inst or #uuid: keep the tagged value
                switch tag {
                case "#NaN": return .value(.double(.nan))
                case "#Inf": return .value(.double(.infinity))
                case "#-Inf": return .value(.double(-.infinity))
                default: return try form()
                }
            case UInt8(ascii: "\\"):
                at += 1
                let start = at
                at += 1
                while at < bytes.count && isTokenByte(bytes[at]) { at += 1 }
                let name = String(decoding: bytes[start..<min(at, bytes.count)], as: UTF8.self)
                let named = ["newline": "\n", "space": " ", "tab": "\t", "return": "\r"]
                return .value(.string(named[name] ?? name))
            case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ")"):
                throw fail("unexpected '\(Character(UnicodeScalar(bytes[at])))'")
            default:
                let word = token()
                guard !word.isEmpty else { throw fail("unexpected character '\(Character(UnicodeScalar(bytes[at])))'") }
                return atom(word)
            }
        }

        private mutating func sequence(until close: UInt8) throws -> [Value] {
            var items: [Value] = []
            while true {
                skipSpace()
                guard at < bytes.count else {
                    throw fail("the text ends before the closing '\(Character(UnicodeScalar(close)))'")
                }
                if bytes[at] == close { at += 1; return items }
                items.append(try form())
            }
        }

        private func isTokenByte(_ byte: UInt8) -> Bool {
            !(byte == 0x20 || byte == 0x2C || byte == 0x0A || byte == 0x0D || byte == 0x09 || byte == 0x3B
              || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "[")
              || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")")
              || byte == UInt8(ascii: "\""))
        }

        private mutating func token() -> String {
            let start = at
            while at < bytes.count && isTokenByte(bytes[at]) { at += 1 }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }

        private func atom(_ word: String) -> Value {
            switch word {
            case "nil": return .value(.none)
            case "true": return .value(.bool(true))
            case "false": return .value(.bool(false))
            default: break
            }
            var digits = Substring(word)
            if digits.hasSuffix("N") { digits = digits.dropLast() }
            if let number = Int64(digits) { return .value(.integer(number)) }
            var decimal = Substring(word)
            if decimal.hasSuffix("M") { decimal = decimal.dropLast() }
            if let first = decimal.first, first.isNumber || ((first == "-" || first == "+") && decimal.count > 1),
               let number = Double(decimal) {
                return .value(.double(number))
            }
            return .symbol(word)
        }

        private mutating func string() throws -> String {
            at += 1 // the opening quote
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
                    guard at + 4 <= bytes.count,
                          let code = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(code) else { throw fail("a \\u escape needs four hex digits") }
                    at += 4
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: out.append(escaped)
                }
            }
            throw fail("a string is not closed with '\"'")
        }
    }

    /// Turns one op map into an operation; `line` is for messages.
    static func operation(_ form: Value, index: Int, line: Int) throws -> ClientOperation {
        guard case .map(let pairs) = form else {
            throw OperationHistoryFormats.ReadError(line: line, message: "expected an op map such as {:process 0, :type :invoke, :f :read}")
        }
        var fields: [String: Value] = [:]
        for (key, value) in pairs { if case .keyword(let name) = key { fields[name] = value } }
        func missing(_ name: String, _ example: String) -> OperationHistoryFormats.ReadError {
            .init(line: line, message: "the op map has no \(name) (expected e.g. \(example))")
        }
        guard let typeValue = fields["type"] else { throw missing(":type", ":type :invoke") }
        guard let kind = ClientOperation.Kind(rawValue: typeValue.keyText) else {
            throw OperationHistoryFormats.ReadError(
                line: line, message: ":type is \(typeValue.keyText); expected :invoke, :ok, :fail or :info")
        }
        guard let processValue = fields["process"] else { throw missing(":process", ":process 0") }
        let process: ClientOperation.Process
        if case .value(.integer(let number)) = processValue { process = .client(Int(number)) }
        else { process = .named(processValue.keyText) }
        let f = fields["f"].map(\.keyText) ?? ""
        var key: String? = nil
        if let keyValue = fields["key"], keyValue != .value(.none) { key = keyValue.keyText }
        var time: UInt64? = nil
        if case .value(.integer(let ns))? = fields["time"], ns >= 0 { time = UInt64(ns) }
        var recordedIndex = index
        if case .value(.integer(let number))? = fields["index"] { recordedIndex = Int(number) }
        var error: String? = nil
        if let errorValue = fields["error"], errorValue != .value(.none) {
            if case .value(.string(let text)) = errorValue { error = text } else { error = write(errorValue.operationValue, keywords: true) }
            if case .keyword(let name) = errorValue { error = name }
        }
        return ClientOperation(index: recordedIndex, kind: kind, process: process, f: f, key: key,
                               value: fields["value"]?.operationValue ?? .none, time: time, error: error)
    }

    // MARK: Writing

    /// One op map, on one line.
    static func write(_ operation: ClientOperation) -> String {
        var parts = ["{:index \(operation.index)", ":type :\(operation.kind.rawValue)"]
        switch operation.process {
        case .client(let number): parts.append(":process \(number)")
        case .named(let name): parts.append(":process \(keywordOrString(name))")
        }
        parts.append(":f \(keywordOrString(operation.f))")
        if let key = operation.key { parts.append(":key \(quoted(key))") }
        parts.append(":value \(write(operation.value))")
        if let time = operation.time { parts.append(":time \(time)") }
        if let error = operation.error { parts.append(":error \(keywordOrString(error))") }
        return parts.joined(separator: ", ") + "}"
    }

    /// A value in EDN. Strings stay strings (Jepsen's values are data, not names).
    public static func write(_ value: OperationValue) -> String { write(value, keywords: false) }

    static func write(_ value: OperationValue, keywords: Bool) -> String {
        switch value {
        case .none: return "nil"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .double(let number):
            if number.isNaN { return "##NaN" }
            if number.isInfinite { return number > 0 ? "##Inf" : "##-Inf" }
            let text = String(number)
            return text.contains(".") || text.contains("e") ? text : text + ".0"
        case .string(let text): return keywords ? keywordOrString(text) : quoted(text)
        case .list(let items): return "[" + items.map { write($0, keywords: keywords) }.joined(separator: " ") + "]"
        case .map(let entries):
            return "{" + entries.sorted { $0.key < $1.key }
                .map { "\(quoted($0.key)) \(write($0.value, keywords: keywords))" }.joined(separator: ", ") + "}"
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `:name` when `name` is a plain keyword, else a string.
    static func keywordOrString(_ name: String) -> String {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy {
            ($0.properties.isAlphabetic && $0.isASCII) || ("0"..."9").contains($0) || "-_?!*.+/<>=".unicodeScalars.contains($0)
        } && !(name.first!.isNumber)
        return plain ? ":" + name : quoted(name)
    }
}
