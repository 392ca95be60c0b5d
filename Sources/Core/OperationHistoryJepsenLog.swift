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
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            guard let operation = try operation(line, index: operations.count, lineNumber: lineNumber) else { continue }
            operations.append(operation)
        }
        return OperationHistory(operations)
    }

    /// Whether a line is one of these log lines (used to tell formats apart).
    static func looksLikeLogLine(_ line: Substring) -> Bool { line.contains("jepsen.util") }

    static func operation(_ line: Substring, index: Int, lineNumber: Int) throws -> ClientOperation? {
        guard let markerRange = line.range(of: "jepsen.util") else { return nil }
        var rest = line[markerRange.upperBound...].drop { $0 == " " || $0 == "\t" }
        guard rest.first == "-" else { return nil }
        rest = rest.dropFirst()
        func field() -> Substring {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
            let word = rest.prefix { $0 != " " && $0 != "\t" && $0 != "\r" }
            rest = rest.dropFirst(word.count)
            return word
        }
        let processField = field()
        let process: ClientOperation.Process
        if let number = Int(processField) { process = .client(number) }
        else if processField.hasPrefix(":"), processField.count > 1 { process = .named(String(processField.dropFirst())) }
        else { return nil }
        let typeField = field()
        guard typeField.hasPrefix(":"), let kind = ClientOperation.Kind(rawValue: String(typeField.dropFirst())) else {
            return nil
        }
        let fField = field()
        guard fField.hasPrefix(":"), fField.count > 1 else {
            throw OperationHistoryFormats.ReadError(
                line: lineNumber, message: "expected a function such as :read, :write or :cas after \(typeField), got '\(fField)'")
        }
        let f = String(fField.dropFirst())
        let valueText = rest.trimmingCharacters(in: .whitespacesAndNewlines)
        var value = OperationValue.none
        var error: String? = nil
        if !valueText.isEmpty {
            do {
                let forms = try OperationHistoryEDN.readAll(Substring(valueText))
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
}
