/// A node's configuration as a tree: what a profile's defaults, `spec.config` and `n:set_config`
/// produce, and what gets rendered into a config file (YAML, properties). Lua tables convert to and
/// from it in Bindings; Core merges and renders without knowing Lua.
public indirect enum ConfigValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([ConfigValue])
    /// Keys keep their insertion order so generated files are stable and read naturally.
    case map([(key: String, value: ConfigValue)])
    /// In an overlay: "delete this key from the base" (Lua's `json.null`, as ccm's
    /// `set_configuration_options` deletes a key given None).
    case remove

    public static func == (lhs: ConfigValue, rhs: ConfigValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null), (.remove, .remove): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.list(a), .list(b)): return a == b
        case let (.map(a), .map(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public subscript(key: String) -> ConfigValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// Merges `overlay` into `self` the way ccm's `set_configuration_options` does: nested maps merge
    /// key by key, anything else replaces, and `.remove` deletes the key.
    public func merging(_ overlay: ConfigValue) -> ConfigValue {
        guard case .map(var base) = self, case .map(let top) = overlay else {
            return overlay == .remove ? .null : overlay
        }
        for (key, value) in top {
            let index = base.firstIndex { $0.key == key }
            switch (index, value) {
            case (let i?, .remove): base.remove(at: i)
            case (nil, .remove): break
            case (let i?, _): base[i].value = base[i].value.merging(value)
            case (nil, _): base.append((key, value.removingMarkers()))
            }
        }
        return .map(base)
    }

    /// A new key from an overlay must not smuggle removal markers into the result.
    private func removingMarkers() -> ConfigValue {
        switch self {
        case .map(let entries): return .map(entries.filter { $0.value != .remove }.map { ($0.key, $0.value.removingMarkers()) })
        case .list(let items): return .list(items.map { $0.removingMarkers() })
        default: return self
        }
    }

    // MARK: Codable: as plain JSON, maps as ordered [[key, value]] pairs to keep key order.
    private enum Tag: String, Codable { case null, bool, int, double, string, list, map, remove }
    private enum CodingKeys: String, CodingKey { case t, v }
    private struct Pair: Codable { var k: String; var v: ConfigValue }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(Tag.self, forKey: .t) {
        case .null: self = .null
        case .remove: self = .remove
        case .bool: self = .bool(try c.decode(Bool.self, forKey: .v))
        case .int: self = .int(try c.decode(Int64.self, forKey: .v))
        case .double: self = .double(try c.decode(Double.self, forKey: .v))
        case .string: self = .string(try c.decode(String.self, forKey: .v))
        case .list: self = .list(try c.decode([ConfigValue].self, forKey: .v))
        case .map: self = .map(try c.decode([Pair].self, forKey: .v).map { ($0.k, $0.v) })
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .null: try c.encode(Tag.null, forKey: .t)
        case .remove: try c.encode(Tag.remove, forKey: .t)
        case .bool(let v): try c.encode(Tag.bool, forKey: .t); try c.encode(v, forKey: .v)
        case .int(let v): try c.encode(Tag.int, forKey: .t); try c.encode(v, forKey: .v)
        case .double(let v): try c.encode(Tag.double, forKey: .t); try c.encode(v, forKey: .v)
        case .string(let v): try c.encode(Tag.string, forKey: .t); try c.encode(v, forKey: .v)
        case .list(let v): try c.encode(Tag.list, forKey: .t); try c.encode(v, forKey: .v)
        case .map(let v): try c.encode(Tag.map, forKey: .t); try c.encode(v.map { Pair(k: $0.key, v: $0.value) }, forKey: .v)
        }
    }
}
