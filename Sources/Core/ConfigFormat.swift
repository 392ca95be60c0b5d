import Foundation
import Yams

/// Writes a `ConfigValue` in the file formats database images read.
public enum ConfigFormat: String, Sendable, Codable {
    case yaml          // scylla.yaml, cassandra.yaml
    case properties    // cassandra-rackdc.properties: key=value lines
    case json
    case text          // the value must be a string; written as is

    public func render(_ value: ConfigValue) throws -> String {
        switch self {
        case .yaml: return try YAMLWriter.document(value)
        case .properties: return try PropertiesWriter.document(value)
        case .json: return JSONWriter.document(value)
        case .text:
            guard case .string(let text) = value else {
                throw ClusterError(.config, "a file of format 'text' needs a string as its content")
            }
            return text
        }
    }
}

/// Block-style YAML through Yams (libyaml's emitter, so escaping and line breaks are right by
/// construction), keys in the order given. Styles are chosen here, for YAML 1.1 readers (SnakeYAML
/// in Cassandra and Scylla, PyYAML): a string is plain only when it cannot be read as anything
/// else there; multi-line text is a literal block; numbers are written so every reader sees one.
enum YAMLWriter {
    static func document(_ value: ConfigValue) throws -> String {
        do {
            return try Yams.serialize(node: node(value), indent: 2, width: -1, allowUnicode: true)
        } catch {
            throw ClusterError(.config, "could not write the YAML document: \(error)")
        }
    }

    static func node(_ value: ConfigValue) -> Yams.Node {
        switch value {
        case .map(let entries):
            return Yams.Node(entries.filter { $0.value != .remove }.map { (string($0.key), node($0.value)) })
        case .list(let items):
            return Yams.Node(items.map(node))
        case .null, .remove: return Yams.Node("null", Tag(.null), .plain)
        case .bool(let b): return Yams.Node(b ? "true" : "false", Tag(.bool), .plain)
        case .int(let i): return Yams.Node(String(i), Tag(.int), .plain)
        case .double(let d): return Yams.Node(number(d), Tag(.float), .plain)
        case .string(let s): return string(s)
        }
    }

    /// `0.00001` prints as `1e-05`, which YAML 1.1 reads as a string (its floats need a dot):
    /// `1.0e-05` reads as the number everywhere.
    static func number(_ d: Double) -> String {
        guard d.isFinite else { return d.isNaN ? ".nan" : (d > 0 ? ".inf" : "-.inf") }
        var text = String(d)
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }), !text[..<e].contains(".") {
            text.insert(contentsOf: ".0", at: e)
        }
        return text
    }

    static func string(_ s: String) -> Yams.Node {
        if isPlainSafe(s) { return Yams.Node(s, Tag(.str), .plain) }
        // A literal block keeps line breaks exactly, but a carriage return or a Unicode line
        // break in one would read back as a plain newline: those go double-quoted (escaped).
        // libyaml itself moves to double quotes where a style cannot hold a character.
        let otherBreaks: Set<Character> = ["\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}"]
        if s.contains(where: otherBreaks.contains) { return Yams.Node(s, Tag(.str), .doubleQuoted) }
        return Yams.Node(s, Tag(.str), s.contains("\n") ? .literal : .singleQuoted)
    }

    /// The words YAML 1.1 reads as a bool or null, in any of their spellings.
    private static let specialWords: Set<String> = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"]

    /// Plain only for a word that starts with a letter, `_` or `/` and holds no character YAML
    /// treats specially: never a number, date, time, bool, null or merge key in any YAML version.
    static func isPlainSafe(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !specialWords.contains(s.lowercased()) else { return false }
        let letters = ("a"..."z").contains(first) || ("A"..."Z").contains(first) || first == "_" || first == "/"
        return letters && s.unicodeScalars.allSatisfy { c in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || "_/.@%+=,-".unicodeScalars.contains(c)
        }
    }
}

/// `key=value` lines; only a flat map of scalars makes sense here.
enum PropertiesWriter {
    static func document(_ value: ConfigValue) throws -> String {
        guard case .map(let entries) = value else {
            throw ClusterError(.config, "a .properties file needs a table of key = value")
        }
        return try entries.filter { $0.value != .remove }.map { key, value in
            switch value {
            case .string(let s): return "\(key)=\(s)"
            case .int(let i): return "\(key)=\(i)"
            case .double(let d): return "\(key)=\(d)"
            case .bool(let b): return "\(key)=\(b)"
            default: throw ClusterError(.config, "property '\(key)' must be a string, number or boolean")
            }
        }.joined(separator: "\n") + "\n"
    }
}

enum JSONWriter {
    static func document(_ value: ConfigValue) -> String { encode(value) + "\n" }

    static func encode(_ value: ConfigValue) -> String {
        switch value {
        case .null, .remove: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : "null"
        case .string(let s): return quote(s)
        case .list(let items): return "[" + items.map(encode).joined(separator: ",") + "]"
        case .map(let entries):
            return "{" + entries.filter { $0.value != .remove }.map { quote($0.key) + ":" + encode($0.value) }
                .joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
