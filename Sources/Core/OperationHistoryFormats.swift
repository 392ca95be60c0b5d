import Foundation

/// Writing and reading an `OperationHistory`: ccm-lua's JSON lines, Jepsen's EDN op maps, and the
/// text logs Jepsen wrote for its etcd tests. docs/checker.md describes each format.
public enum OperationHistoryFormats {
    /// The format of a history file.
    public enum Format: String, Sendable, CaseIterable { case jsonLines = "jsonl", edn, jepsenLog = "jepsen-log" }

    /// A history file that cannot be read: which line, and what was expected there.
    public struct ReadError: Error, Equatable, CustomStringConvertible {
        /// From 1; 0 when the problem is the file as a whole.
        public var line: Int
        public var message: String
        /// The file's path, when it was read from one.
        public var file: String?
        public init(line: Int, message: String, file: String? = nil) { self.line = line; self.message = message; self.file = file }
        public var description: String {
            switch (file, line > 0) {
            case (let file?, true): "\(file):\(line): \(message)"
            case (let file?, false): "\(file): \(message)"
            case (nil, true): "line \(line): \(message)"
            case (nil, false): message
            }
        }
    }

    /// One JSON object per operation.
    public static func jsonLines(_ history: OperationHistory) -> Data {
        var text = ""
        for operation in history.operations {
            text += OperationHistoryJSON.write(operation)
            text += "\n"
        }
        return Data(text.utf8)
    }

    /// One EDN op map per line, as Jepsen's checkers (Knossos, elle-cli) read them.
    public static func edn(_ history: OperationHistory) -> String {
        var text = ""
        for operation in history.operations {
            text += OperationHistoryEDN.write(operation)
            text += "\n"
        }
        return text
    }

    /// Reads any of the three formats, telling them apart by content.
    public static func load(_ data: Data) throws -> OperationHistory {
        try load(data, format: nil)
    }

    /// Reads `data` as `format`, or as the format its content shows when `format` is nil.
    public static func load(_ data: Data, format: Format?) throws -> OperationHistory {
        guard let text = String(data: data, encoding: .utf8) else {
            throw ReadError(line: 0, message: "the history is not UTF-8 text")
        }
        guard let format = format ?? detect(text) else {
            let first = text.split(separator: "\n").first { !$0.allSatisfy(\.isWhitespace) }.map { String($0.prefix(80)) } ?? ""
            throw ReadError(line: 0, message: "not a history: expected JSON lines ({\"type\":\"invoke\", ...}), EDN op maps "
                            + "({:type :invoke, ...}) or Jepsen etcd log lines (INFO jepsen.util - 0 :invoke :read nil); "
                            + "the file starts with '\(first)'")
        }
        switch format {
        case .jsonLines: return try readJSONLines(text)
        case .edn: return try readEDN(text)
        case .jepsenLog: return try OperationHistoryJepsenLog.read(text)
        }
    }

    /// Reads the file at `path`, telling the format apart by content.
    public static func load(path: String) throws -> OperationHistory {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ReadError(line: 0, message: "cannot read the history: \(error.localizedDescription)", file: path)
        }
        do { return try load(data) } catch var error as ReadError {
            error.file = path
            throw error
        }
    }

    /// The format a history's text is in, from its first line that is not blank or a comment.
    public static func detect(_ text: String) -> Format? {
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "," }
            if trimmed.isEmpty || trimmed.hasPrefix(";") { continue }
            if OperationHistoryJepsenLog.looksLikeLogLine(trimmed) { return .jepsenLog }
            if trimmed.hasPrefix("[") || trimmed.hasPrefix("(") { return .edn }
            if trimmed.hasPrefix("{") {
                let inside = trimmed.dropFirst().drop { $0 == " " || $0 == "\t" }
                if inside.hasPrefix("\"") { return .jsonLines }
                if inside.hasPrefix(":") { return .edn }
            }
            // Log noise before the first event line of a Jepsen log.
            return text.contains("jepsen.util") ? .jepsenLog : nil
        }
        return nil
    }

    static func readJSONLines(_ text: String) throws -> OperationHistory {
        var operations: [ClientOperation] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy(\.isWhitespace) { continue }
            operations.append(try OperationHistoryJSON.operation(line, position: operations.count, lineNumber: lineNumber))
        }
        return OperationHistory(operations)
    }

    static func readEDN(_ text: String) throws -> OperationHistory {
        let bytes = Array(text.utf8)
        var newlines: [Int] = []
        for (offset, byte) in bytes.enumerated() where byte == 0x0A { newlines.append(offset) }
        func line(_ offset: Int) -> Int {
            var low = 0, high = newlines.count
            while low < high {
                let middle = (low + high) / 2
                if newlines[middle] < offset { low = middle + 1 } else { high = middle }
            }
            return low + 1
        }
        let forms: [(form: OperationHistoryEDN.Value, offset: Int)]
        do { forms = try OperationHistoryEDN.readAll(bytes: bytes) } catch let error as OperationHistoryEDN.ParseError {
            throw ReadError(line: line(error.offset), message: "not EDN: \(error.message)")
        }
        var operations: [ClientOperation] = []
        for (form, offset) in forms {
            // A whole history may be one vector of op maps.
            if case .vector(let items) = form {
                for item in items {
                    operations.append(try OperationHistoryEDN.operation(item, index: operations.count, line: line(offset)))
                }
            } else {
                operations.append(try OperationHistoryEDN.operation(form, index: operations.count, line: line(offset)))
            }
        }
        return OperationHistory(operations)
    }
}
