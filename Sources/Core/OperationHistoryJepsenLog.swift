import Foundation

/// The text logs Jepsen wrote for its etcd tests, one event per line, fields separated by tabs or
/// spaces:
///
///     INFO  jepsen.util - 3	:invoke	:cas	[3 0]
///     INFO  jepsen.util - 3	:ok	:cas	[3 0]
///     INFO  jepsen.util - 1	:info	:write	:timed-out
///     INFO  jepsen.util - :nemesis	:info	:start	"Cut off ..."
///
/// The process is an integer, or a keyword for the nemesis (a named process, which checkers skip).
/// The value is EDN: `nil`, a number, `[old new]` for a cas. A keyword in place of the value of a
/// `fail` or `info` (`:timed-out`) is why it failed, not a value. Lines without `jepsen.util - `
/// followed by a process and a type (log noise) are skipped.
enum OperationHistoryJepsenLog {
    static let marker = Array("jepsen.util".utf8)

    static func read(_ text: String) throws -> OperationHistory {
        var operations: [ClientOperation] = []
        let bytes = Array(text.utf8)
        var lineNumber = 0
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            if let operation = try operation(bytes[start..<end], index: operations.count, lineNumber: lineNumber) {
                operations.append(operation)
            }
            start = end + 1
        }
        return OperationHistory(operations)
    }

    /// Whether a line is one of these log lines (used to tell formats apart).
    static func looksLikeLogLine(_ line: Substring) -> Bool { line.contains("jepsen.util") }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }

    /// The operation on one line, or nil when the line is not an event. Works on bytes: logs run to
    /// many thousands of lines.
    static func operation(_ line: ArraySlice<UInt8>, index: Int, lineNumber: Int) throws -> ClientOperation? {
        guard var at = find(marker, in: line) else { return nil }
        at += marker.count
        let end = line.endIndex
        while at < end && isBlank(line[at]) { at += 1 }
        guard at < end, line[at] == UInt8(ascii: "-") else { return nil }
        at += 1
        func field() -> ArraySlice<UInt8> {
            while at < end && isBlank(line[at]) { at += 1 }
            let start = at
            while at < end && !isBlank(line[at]) { at += 1 }
            return line[start..<at]
        }
        func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        let processField = field()
        let process: ClientOperation.Process
        if let number = Int(text(processField)) { process = .client(number) }
        else if processField.first == UInt8(ascii: ":"), processField.count > 1 { process = .named(text(processField.dropFirst())) }
        else { return nil }
        let typeField = field()
        guard typeField.first == UInt8(ascii: ":"), let kind = ClientOperation.Kind(rawValue: text(typeField.dropFirst())) else {
            return nil
        }
        let fField = field()
        guard fField.first == UInt8(ascii: ":"), fField.count > 1 else {
            throw OperationHistoryFormats.ReadError(
                line: lineNumber, message: "expected a function such as :read, :write or :cas after \(text(typeField)), got '\(text(fField))'")
        }
        let f = text(fField.dropFirst())
        var valueStart = at
        var valueEnd = end
        while valueStart < valueEnd && isBlank(line[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart && isBlank(line[valueEnd - 1]) { valueEnd -= 1 }
        let valueBytes = line[valueStart..<valueEnd]
        var value = OperationValue.none
        var error: String? = nil
        if let simple = simpleValue(valueBytes) {
            value = simple
        } else if !valueBytes.isEmpty {
            let valueText = text(valueBytes)
            do {
                let forms = try OperationHistoryEDN.readAll(bytes: Array(valueBytes)).map(\.form)
                if forms.count == 1, case .keyword(let reason) = forms[0], kind == .fail || kind == .info {
                    error = reason
                } else if forms.count == 1 {
                    value = forms[0].operationValue
                } else if case .named = process {
                    value = .string(valueText)
                } else {
                    throw OperationHistoryEDN.ParseError(message: "more than one value", offset: 0)
                }
            } catch let failure as OperationHistoryEDN.ParseError {
                // A nemesis writes free text; a client's value must be EDN.
                guard case .named = process else {
                    throw OperationHistoryFormats.ReadError(
                        line: lineNumber,
                        message: "the value '\(valueText)' is not EDN (\(failure.message)); expected nil, a number or [old new]")
                }
                value = .string(valueText)
            }
        }
        return ClientOperation(index: index, kind: kind, process: process, f: f, value: value, error: error)
    }

    /// The values nearly every line has, without the EDN reader: nil, an integer, [integer integer].
    private static func simpleValue(_ bytes: ArraySlice<UInt8>) -> OperationValue? {
        if bytes.elementsEqual("nil".utf8) { return OperationValue.none }
        if let number = integer(bytes) { return .integer(number) }
        guard bytes.count >= 5, bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]"),
              let space = bytes.firstIndex(where: { $0 == 0x20 || $0 == 0x2C || $0 == 0x09 }),
              let old = integer(bytes[(bytes.startIndex + 1)..<space]),
              let new = integer(bytes[(space + 1)..<(bytes.endIndex - 1)]) else { return nil }
        return .list([.integer(old), .integer(new)])
    }

    private static func integer(_ bytes: ArraySlice<UInt8>) -> Int64? {
        guard !bytes.isEmpty, bytes.count < 19 else { return nil }
        var rest = bytes[...]
        var negative = false
        if rest.first == UInt8(ascii: "-") { negative = true; rest = rest.dropFirst() }
        guard !rest.isEmpty else { return nil }
        var number: Int64 = 0
        for byte in rest {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            number = number * 10 + Int64(byte - 0x30)
        }
        return negative ? -number : number
    }

    private static func find(_ needle: [UInt8], in line: ArraySlice<UInt8>) -> Int? {
        guard line.count >= needle.count else { return nil }
        var at = line.startIndex
        let last = line.endIndex - needle.count
        while at <= last {
            if line[at] == needle[0] {
                var matched = true
                for k in 1..<needle.count where line[at + k] != needle[k] { matched = false; break }
                if matched { return at }
            }
            at += 1
        }
        return nil
    }
}
