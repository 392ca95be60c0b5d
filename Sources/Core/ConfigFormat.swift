import Foundation

/// Writes a `ConfigValue` in the file formats database images read.
public enum ConfigFormat: String, Sendable, Codable {
    case yaml          // scylla.yaml, cassandra.yaml
    case properties    // cassandra-rackdc.properties: key=value lines
    case json
    case text          // the value must be a string; written as is

    public func render(_ value: ConfigValue) throws -> String {
        switch self {
        case .yaml: return YAMLWriter.document(value)
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

/// Block-style YAML, the subset config files use: maps, lists, scalars. Strings are quoted whenever
/// YAML would read them as something else ("yes", "1.0", ": ", leading "*").
enum YAMLWriter {
    static func document(_ value: ConfigValue) -> String {
        var out = ""
        switch value {
        case .map(let entries) where !entries.isEmpty: writeMap(entries, indent: 0, into: &out)
        case .list(let items) where !items.isEmpty: writeList(items, indent: 0, into: &out)
        default: out = scalar(value) + "\n"
        }
        return out
    }

    private static func writeMap(_ entries: [(key: String, value: ConfigValue)], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in entries where value != .remove {
            switch value {
            case .map(let inner) where !inner.isEmpty:
                out += "\(pad)\(quotedIfNeeded(key)):\n"; writeMap(inner, indent: indent + 2, into: &out)
            case .list(let items) where !items.isEmpty:
                out += "\(pad)\(quotedIfNeeded(key)):\n"; writeList(items, indent: indent, into: &out)
            default:
                out += "\(pad)\(quotedIfNeeded(key)): \(scalar(value))\n"
            }
        }
    }

    private static func writeList(_ items: [ConfigValue], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .map(let inner) where !inner.isEmpty:
                // "- key: v" then the other keys aligned under the first one.
                var block = ""
                writeMap(inner, indent: indent + 2, into: &block)
                out += pad + "- " + block.dropFirst(indent + 2)
            case .list(let inner) where !inner.isEmpty:
                out += "\(pad)-\n"; writeList(inner, indent: indent + 2, into: &out)
            default:
                out += "\(pad)- \(scalar(item))\n"
            }
        }
    }

    static func scalar(_ value: ConfigValue) -> String {
        switch value {
        case .null, .remove: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : (d.isNaN ? ".nan" : (d > 0 ? ".inf" : "-.inf"))
        case .string(let s): return quotedIfNeeded(s)
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    private static let specialWords: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"]

    static func quotedIfNeeded(_ s: String) -> String {
        let readsAsOther = specialWords.contains(s.lowercased()) || Double(s) != nil || s.hasPrefix(".")
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || "_/.@%+=,-".unicodeScalars.contains(c)
        } && !"-@%".unicodeScalars.contains(s.unicodeScalars.first!)
        if !readsAsOther, plain { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
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
