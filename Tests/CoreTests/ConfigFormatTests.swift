import Foundation
import Testing
import Yams
@testable import Core

/// Generated YAML (scylla.yaml, cassandra.yaml) must read back as exactly the values given, in a
/// YAML 1.1 parser as SnakeYAML in Cassandra and Scylla reads it (PyYAML plays that part here),
/// and in Yams. Strings that look like another type are the trap: a date, an int, a bool, null.
@Suite struct YAMLRoundTripTests {
    static let lookalikes = [
        "2024-01-01", "2024-01-01 10:00:00", "2001-12-14t21:59:43.10-05:00", "1_000", "0.00001", "1e3", "1E3", "0x1F", "0o17", "017",
        "0b101", "+1", "-1", ".5", "1.", "+.5e-3", "1:20", "12:30:45", "190:20:30.15",
        "yes", "no", "on", "off", "y", "n", "Y", "N", "Yes", "ON", "Off", "true", "False", "TRUE",
        "~", "null", "Null", "NULL", "", " lead", "trail ", " ", ".inf", "-.Inf", ".NaN", "<<", "=",
        "a # b", "#x", "a: b", "a:b", "- x", "-", "--- x", "...", "?", "? x", "*x", "&x", "!x", "!!str x", "|", ">", "%x", "@x", "`x",
        "'q'", "\"dq\"", "{a: 1}", "[1, 2]", ",", "a,b", "ünïcødé ✓", "日本語", "emoji 🎉", "\\backslash", "tab\there",
        "10.0.0.1", "1.2.3", "/var/lib/scylla", "org.apache.cassandra.locator.SimpleSeedProvider",
        "line1\nline2", "trailing newline\n", "two trailing\n\n", "  indented first\nsecond", "\nleading newline",
        "carriage\r\nreturn", "nul\u{0}char", "bell\u{7}", "line sep\u{2028}x",
    ]

    static var document: ConfigValue {
        var entries: [(key: String, value: ConfigValue)] = lookalikes.enumerated().map { ("s\($0.offset)", .string($0.element)) }
        entries += [
            ("int0", .int(0)), ("int1", .int(1)), ("intneg", .int(-1)), ("intmax", .int(Int64.max)), ("intmin", .int(Int64.min)),
            ("small", .double(0.00001)), ("tiny", .double(1e-300)), ("huge", .double(1.5e300)), ("big", .double(1e20)),
            ("hundred", .double(100.0)), ("half", .double(-0.5)), ("pi", .double(3.14159)), ("one", .double(1.0)),
            ("t", .bool(true)), ("f", .bool(false)), ("nothing", .null),
            ("nested", .map([("inner", .map([("deep", .string("2024-01-01")), ("n", .int(7))])), ("list", .list([.string("yes"), .int(1)]))])),
            ("seeds", .list([.map([("class_name", .string("x.Y")), ("parameters", .list([.map([("seeds", .string("10.0.0.1,10.0.0.2"))])]))])])),
            ("lists", .list([.list([.int(1), .string("1")]), .list([]), .map([])])),
            ("emptymap", .map([])), ("emptylist", .list([])),
            ("yes", .int(1)), ("1", .int(2)), ("null", .int(3)), ("2024-01-01", .int(4)), ("a: b", .int(5)), ("", .int(6)),
            ("multi", .list(Self.lookalikes.filter { $0.contains("\n") }.map { .string($0) })),
        ]
        return .map(entries)
    }

    // MARK: Reading back

    /// A value as a parser gave it back, with its type.
    indirect enum Read: Equatable, CustomStringConvertible {
        case str(String), int(String), float(Double), bool(Bool), null, other(String)
        case list([Read]), map([String: Read])

        var description: String {
            switch self {
            case .str(let s): return "str(\(s.debugDescription))"
            case .int(let i): return "int(\(i))"
            case .float(let d): return "float(\(d))"
            case .bool(let b): return "bool(\(b))"
            case .null: return "null"
            case .other(let o): return "other(\(o))"
            case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
            case .map(let m): return "{" + m.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
            }
        }

        init(_ value: ConfigValue) {
            switch value {
            case .string(let s): self = .str(s)
            case .int(let i): self = .int(String(i))
            case .double(let d): self = .float(d)
            case .bool(let b): self = .bool(b)
            case .null, .remove: self = .null
            case .list(let items): self = .list(items.map(Read.init))
            case .map(let entries): self = .map(Dictionary(entries.map { ("str:" + $0.key, Read($0.value)) }, uniquingKeysWith: { a, _ in a }))
            }
        }

        /// From the tagged JSON the PyYAML helper prints: `["str", "x"]`, `["map", [[key, value], ...]]`.
        init(tagged: Any) {
            guard let pair = tagged as? [Any], let tag = pair.first as? String else { self = .other("\(tagged)"); return }
            let value = pair.count > 1 ? pair[1] : nil
            switch tag {
            case "str": self = .str(value as? String ?? "?")
            case "int": self = .int(value as? String ?? "?")
            case "float": self = .float(Double(value as? String ?? "") ?? .nan)
            case "bool": self = .bool(value as? Bool ?? false)
            case "null": self = .null
            case "list": self = .list((value as? [Any] ?? []).map { Read(tagged: $0) })
            case "map":
                var m: [String: Read] = [:]
                for entry in value as? [[Any]] ?? [] {
                    m[Read(tagged: entry[0]).keyText] = Read(tagged: entry[1])
                }
                self = .map(m)
            default: self = .other("\(tag) \(value ?? "")")
            }
        }

        /// Yams' own reading (`Yams.load`: its resolver follows YAML 1.1 too).
        init(yams value: Any) {
            switch value {
            case let b as Bool: self = .bool(b)
            case let i as Int: self = .int(String(i))
            case let d as Double: self = .float(d)
            case let s as String: self = .str(s)
            case is NSNull: self = .null
            case let items as [Any]: self = .list(items.map { Read(yams: $0) })
            case let map as [AnyHashable: Any]:
                var m: [String: Read] = [:]
                for (k, v) in map { m[Read(yams: k.base).keyText] = Read(yams: v) }
                self = .map(m)
            case let map as [String: Any]:
                var m: [String: Read] = [:]
                for (k, v) in map { m["str:" + k] = Read(yams: v) }
                self = .map(m)
            default: self = .other("\(type(of: value)) \(value)")
            }
        }

        /// Keys keep their type: `yes:` read as the bool true is not the string "yes".
        var keyText: String {
            switch self {
            case .str(let s): return "str:" + s
            default: return description
            }
        }
    }

    /// PyYAML's `safe_load` (YAML 1.1), each value tagged with the Python type it became.
    static func readWithPyYAML(_ yaml: String) throws -> Read {
        let helper = """
            import sys, json, yaml, datetime
            def tag(v):
                if isinstance(v, bool): return ["bool", v]
                if isinstance(v, int): return ["int", str(v)]
                if isinstance(v, float): return ["float", repr(v)]
                if isinstance(v, str): return ["str", v]
                if v is None: return ["null"]
                if isinstance(v, list): return ["list", [tag(x) for x in v]]
                if isinstance(v, dict): return ["map", [[tag(k), tag(x)] for k, x in v.items()]]
                return [type(v).__name__, str(v)]
            print(json.dumps(tag(yaml.safe_load(sys.stdin.buffer.read().decode("utf-8")))))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", helper]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(yaml.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ClusterError(.config, "PyYAML could not read the document (python3 -c 'import yaml' must work): \(problem)")
        }
        return Read(tagged: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
    }

    static func differences(_ expected: Read, _ actual: Read, at path: String = "") -> [String] {
        switch (expected, actual) {
        case (.map(let a), .map(let b)):
            var out: [String] = []
            for key in Set(a.keys).union(b.keys).sorted() {
                guard let x = a[key], let y = b[key] else { out.append("\(path)/\(key): missing on one side"); continue }
                out += differences(x, y, at: path + "/" + key)
            }
            return out
        case (.list(let a), .list(let b)) where a.count == b.count:
            return zip(a, b).enumerated().flatMap { differences($0.element.0, $0.element.1, at: path + "[\($0.offset)]") }
        case (.float(let a), .float(let b)) where a == b:
            return []
        default:
            return expected == actual ? [] : ["\(path): wrote \(expected), read \(actual)"]
        }
    }

    @Test func everyScalarKindReadsBackTheSameInAYAML11Parser() throws {
        let yaml = try ConfigFormat.yaml.render(Self.document)
        let problems = Self.differences(Read(Self.document), try Self.readWithPyYAML(yaml))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))\n--- document:\n\(yaml)")
    }

    @Test func everyScalarKindReadsBackTheSameInYams() throws {
        let yaml = try ConfigFormat.yaml.render(Self.document)
        let problems = Self.differences(Read(Self.document), Read(yams: try Yams.load(yaml: yaml) as Any))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))\n--- document:\n\(yaml)")
    }

    /// What a person reads in scylla.yaml: block style, keys in the order given, plain words
    /// unquoted, lists under their key, multi-line text as a literal block.
    @Test func theDocumentReadsLikeAHandWrittenConfig() throws {
        let value: ConfigValue = .map([
            ("cluster_name", .string("test")), ("num_tokens", .int(256)), ("authenticator", .string("AllowAllAuthenticator")),
            ("data_file_directories", .list([.string("/var/lib/scylla/data")])),
            ("seed_provider", .list([.map([("class_name", .string("org.apache.cassandra.locator.SimpleSeedProvider")),
                                           ("parameters", .list([.map([("seeds", .string("node1"))])]))])])),
            ("enable_user_defined_functions", .bool(false)), ("phi", .double(0.5)), ("skip", .remove),
            ("banner", .string("one\ntwo\n")),
        ])
        #expect(try ConfigFormat.yaml.render(value) == """
            cluster_name: test
            num_tokens: 256
            authenticator: AllowAllAuthenticator
            data_file_directories:
            - /var/lib/scylla/data
            seed_provider:
            - class_name: org.apache.cassandra.locator.SimpleSeedProvider
              parameters:
              - seeds: node1
            enable_user_defined_functions: false
            phi: 0.5
            banner: |
              one
              two

            """)
    }

    @Test func lookalikesAreQuotedAndNumbersAreNot() throws {
        let yaml = try ConfigFormat.yaml.render(.map([("date", .string("2024-01-01")), ("count", .int(1000)), ("small", .double(0.00001)),
                                                      ("n", .string("n")), ("ip", .string("10.0.0.1"))]))
        // `n` is a bool in YAML 1.1's spec (not in SnakeYAML's): quoted all the same.
        #expect(yaml == "date: '2024-01-01'\ncount: 1000\nsmall: 1.0e-05\n'n': 'n'\nip: '10.0.0.1'\n")
    }
}
