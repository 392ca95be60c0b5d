import Core

/// Reads what a profile's `node()` returned (after `cluster.lua` applied the spec) into Core's
/// `NodePlan`. Every field is checked, and a wrong one names the node and the field.
struct PlanReader {
    let node: String
    let plan: ConfigValue

    func read() throws -> NodePlan {
        guard case .map = plan else { throw problem("the plan", "a table") }
        guard let image = try string("image") else { throw problem("image", "a string (no image was given or planned)") }
        var result = NodePlan(image: image)
        result.command = try command()
        result.entrypoint = try strings("entrypoint")
        result.env = try stringMap("env") ?? [:]
        result.files = try files()
        result.directories = try (stringMap("directories") ?? [:]).sorted { $0.key < $1.key }
            .map { NodeDirectory(path: $0.key, containerPath: $0.value) }
        result.volumes = try volumes()
        result.capAdd = try strings("cap_add") ?? []
        result.cpus = try number("cpus")
        result.memory = try string("memory")
        result.ports = try ports()
        result.clientPorts = try clientPorts()
        result.user = try string("user")
        result.owner = try string("owner")
        result.readiness = try readiness()
        return result
    }

    private func problem(_ field: String, _ expected: String) -> LuaError {
        LuaError(kind: "config", "\(node)'s plan: \(field) must be \(expected)", node: node)
    }

    private func value(_ key: String, in map: ConfigValue? = nil) -> ConfigValue? {
        let found = (map ?? plan)[key]
        return found == .null || found == .remove ? nil : found
    }

    private func string(_ key: String, in map: ConfigValue? = nil) throws -> String? {
        switch value(key, in: map) {
        case nil: return nil
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .double(let d)?: return String(d)
        default: throw problem(key, "a string")
        }
    }

    private func number(_ key: String) throws -> Double? {
        switch value(key) {
        case nil: return nil
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d
        default: throw problem(key, "a number")
        }
    }

    private func strings(_ key: String, in map: ConfigValue? = nil) throws -> [String]? {
        switch value(key, in: map) {
        case nil: return nil
        case .list(let items)?:
            return try items.map {
                switch $0 {
                case .string(let s): return s
                case .int(let i): return String(i)
                case .double(let d): return String(d)
                default: throw problem(key, "a list of strings")
                }
            }
        case .map(let entries)? where entries.isEmpty: return []
        default: throw problem(key, "a list of strings")
        }
    }

    private func stringMap(_ key: String) throws -> [String: String]? {
        switch value(key) {
        case nil: return nil
        case .map(let entries)?:
            var result: [String: String] = [:]
            for (k, v) in entries {
                switch v {
                case .string(let s): result[k] = s
                case .int(let i): result[k] = String(i)
                case .double(let d): result[k] = String(d)
                case .bool(let b): result[k] = String(b)
                default: throw problem("\(key).\(k)", "a string")
                }
            }
            return result
        case .list(let items)? where items.isEmpty: return [:]
        default: throw problem(key, "a table of name = value")
        }
    }

    /// An argv list, or a string that runs through the shell (Core's `ShellCommand`).
    private func command() throws -> [String]? {
        if case .string(let script)? = value("command") { return ShellCommand.argv(script) }
        return try strings("command")
    }

    /// `{ path = "conf/x.yaml", mount = "/etc/x.yaml", format = "yaml", content = ... }`
    private func files() throws -> [NodeFile] {
        guard let list = value("files") else { return [] }
        guard case .list(let items) = list else { throw problem("files", "a list of file tables") }
        return try items.enumerated().map { i, item in
            let field = "files[\(i + 1)]"
            guard let path = try string("path", in: item), !path.hasPrefix("/"), !path.contains("..") else {
                throw problem("\(field).path", "a path inside the node folder, like \"conf/app.yaml\"")
            }
            let formatName = try string("format", in: item) ?? "text"
            guard let format = ConfigFormat(rawValue: formatName) else {
                throw problem("\(field).format", "one of yaml, properties, json, text")
            }
            let content: String
            do { content = try format.render(value("content", in: item) ?? .map([])) } catch let error as ClusterError {
                throw problem("\(field).content", "renderable as \(formatName) (\(error.message))")
            }
            return NodeFile(path: path, containerPath: try string("mount", in: item), content: content)
        }
    }

    /// Core's short form (`Mount(parsing:)`) or `{ host = ..., container = ..., read_only = true }`.
    private func volumes() throws -> [Mount] {
        guard let list = value("volumes") else { return [] }
        guard case .list(let items) = list else { throw problem("volumes", "a list") }
        return try items.map { item in
            if case .string(let text) = item {
                guard let mount = Mount(parsing: text) else { throw problem("volumes", "\(Mount.syntax) (got \"\(text)\")") }
                return mount
            }
            guard let host = try string("host", in: item), let container = try string("container", in: item) else {
                throw problem("volumes", "strings \"host:container\" or tables {host =, container =}")
            }
            return Mount(hostPath: host, containerPath: container, readOnly: item["read_only"] == .bool(true))
        }
    }

    /// `9042` (engine picks the host port), or Core's short form (`PortMapping(parsing:)`).
    private func ports() throws -> [PortMapping] {
        guard let list = value("ports") else { return [] }
        guard case .list(let items) = list else { throw problem("ports", "a list") }
        return try items.map { item in
            switch item {
            case .int(let port): return PortMapping(containerPort: Int(port))
            case .string(let text):
                guard let mapping = PortMapping(parsing: text) else { throw problem("ports", "\(PortMapping.syntax) (got \"\(text)\")") }
                return mapping
            default: throw problem("ports", "numbers or strings")
            }
        }
    }

    /// `client_ports = {2379}`: what `n:endpoint` may need published.
    private func clientPorts() throws -> [Int]? {
        guard let list = value("client_ports") else { return nil }
        guard case .list(let items) = list else { throw problem("client_ports", "a list of port numbers") }
        return try items.map { item in
            guard case .int(let port) = item, (1...65535).contains(port) else { throw problem("client_ports", "a list of port numbers") }
            return Int(port)
        }
    }

    /// `ready = { log = "pattern", plain = true, probe = {"argv", ...}, interval = 0.25, timeout = 300,
    /// probe_after_log = false }`
    private func readiness() throws -> Readiness {
        guard let ready = value("ready") else { return Readiness() }
        guard case .map = ready else { throw problem("ready", "a table {log =, probe =}") }
        var readiness = Readiness(logPattern: try string("log", in: ready), plain: ready["plain"] == .bool(true),
                                  probe: try strings("probe", in: ready))
        if case .double(let d)? = ready["interval"] { readiness.probeInterval = d }
        if case .int(let i)? = ready["interval"] { readiness.probeInterval = Double(i) }
        if case .bool(let b)? = ready["probe_after_log"] { readiness.probeAfterLog = b }
        if case .double(let d)? = ready["timeout"] { readiness.timeout = d }
        if case .int(let i)? = ready["timeout"] { readiness.timeout = Double(i) }
        if let pattern = readiness.logPattern, !readiness.plain {
            do { _ = try LogPattern(pattern) } catch let error as ClusterError {
                throw LuaError(kind: "config", "\(node)'s plan: ready.log: \(error.message)", node: node)
            }
        }
        return readiness
    }
}
