import Foundation

/// Reads what `docker`/`podman` print, in whichever of their shapes, into Core's value types.
///
/// The two engines agree on little: `ps`/`network ls`/`volume ls --format json` print one object
/// per line on Docker and one array on Podman; Docker joins labels into a `k=v,k=v` string where
/// Podman prints an object; Docker prefixes image ids with `sha256:` and container names with `/`;
/// Podman omits `Server` from `version` when it runs without a service. Every decoder here accepts
/// both shapes rather than branching on the engine, so a newer client that switches shape still
/// parses.
public enum CLIOutput {
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var what: String
        public var detail: String
        public var description: String { "could not read the engine's \(what): \(detail)" }
    }

    // MARK: Version

    /// Client and server versions; `server` is nil when the engine printed none (Docker with no
    /// daemon prints `"Server":null`; local Podman prints no `Server` at all).
    public static func version(_ data: [UInt8]) throws -> (client: String, server: String?) {
        struct Part: Decodable { var Version: String? }
        struct Doc: Decodable { var Client: Part?; var Server: Part? }
        let doc = try decode(Doc.self, from: data, what: "version")
        guard let client = doc.Client?.Version else {
            throw ParseError(what: "version", detail: "no Client.Version in \(preview(data))")
        }
        return (client, doc.Server?.Version)
    }

    /// `docker info --format '{{json .Swarm}}'`.
    public static func swarm(_ data: [UInt8]) throws -> SwarmMembership {
        struct Manager: Decodable { var NodeID: String?; var Addr: String? }
        struct Doc: Decodable {
            var NodeID: String?; var NodeAddr: String?; var LocalNodeState: String?
            var ControlAvailable: Bool?; var RemoteManagers: [Manager]?
        }
        let doc = try decode(Doc.self, from: data, what: "info")
        return SwarmMembership(state: doc.LocalNodeState ?? "inactive", nodeID: doc.NodeID ?? "", nodeAddress: doc.NodeAddr ?? "",
                               isManager: doc.ControlAvailable ?? false,
                               managers: (doc.RemoteManagers ?? []).map { ($0.NodeID ?? "", $0.Addr ?? "") })
    }

    // MARK: Images

    public static func image(_ data: [UInt8]) throws -> ImageInfo {
        guard let info = try images(data).first else {
            throw ParseError(what: "image inspect", detail: "empty list")
        }
        return info
    }

    /// Every image of an `image inspect a b c`, in order. Labels are `Config.Labels` on Docker and
    /// also `Labels` on Podman; either may be null.
    public static func images(_ data: [UInt8]) throws -> [ImageInfo] {
        struct Config: Decodable { var Labels: [String: String]?; var User: String? }
        struct Doc: Decodable {
            var Id: String
            var RepoTags: [String]?
            var RepoDigests: [String]?
            var Digest: String?
            var Created: String?
            var Size: Int64?
            var Labels: [String: String]?
            var Config: Config?
        }
        return try objects(Doc.self, from: data, what: "image inspect").map { doc in
            let repoDigests = doc.RepoDigests ?? []
            let digest = doc.Digest ?? repoDigests.first.flatMap { $0.split(separator: "@").last.map(String.init) }
            return ImageInfo(id: prefixedID(doc.Id), repoDigests: repoDigests, tags: doc.RepoTags ?? [], digest: digest,
                             user: doc.Config?.User.flatMap { $0.isEmpty ? nil : $0 },
                             created: doc.Created, labels: doc.Labels ?? doc.Config?.Labels ?? [:], size: doc.Size)
        }
    }

    // MARK: Containers

    public static func containerInfo(_ data: [UInt8]) throws -> ContainerInfo {
        guard let first = try containerInfos(data).first else {
            throw ParseError(what: "container inspect", detail: "empty list")
        }
        return first
    }

    /// Every container of a `container inspect a b c`, in order.
    public static func containerInfos(_ data: [UInt8]) throws -> [ContainerInfo] {
        struct State: Decodable {
            var Status: String
            var ExitCode: Int32?
            var Pid: Int32?
            var StartedAt: String?
        }
        struct Endpoint: Decodable { var IPAddress: String? }
        struct Binding: Decodable { var HostIp: String?; var HostPort: String? }
        struct NetworkSettings: Decodable { var Networks: [String: Endpoint]?; var Ports: [String: [Binding]?]? }
        struct Config: Decodable { var Image: String?; var Labels: [String: String]? }
        struct Doc: Decodable {
            var Id: String
            var Name: String
            var Image: String
            var ImageName: String?       // Podman only
            var State: State
            var NetworkSettings: NetworkSettings?
            var Config: Config?
        }
        /// `{"2379/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}], "2380/tcp": null}`
        func publishedPorts(_ ports: [String: [Binding]?]) -> [PublishedPort] {
            ports.flatMap { key, bindings -> [PublishedPort] in
                let parts = key.split(separator: "/")
                guard let port = parts.first.flatMap({ Int($0) }) else { return [] }
                let proto = parts.count > 1 ? String(parts[1]) : "tcp"
                return (bindings ?? []).compactMap { binding in
                    guard let hostPort = binding.HostPort.flatMap({ Int($0) }), hostPort > 0 else { return nil }
                    return PublishedPort(containerPort: port, proto: proto, hostIP: binding.HostIp ?? "", hostPort: hostPort)
                }
            }.sorted { ($0.containerPort, $0.hostIP) < ($1.containerPort, $1.hostIP) }
        }

        return try objects(Doc.self, from: data, what: "container inspect").map { doc in
            var addresses: [String: String] = [:]
            for (network, endpoint) in doc.NetworkSettings?.Networks ?? [:] {
                if let ip = endpoint.IPAddress, !ip.isEmpty { addresses[network] = ip }
            }
            return ContainerInfo(
                id: doc.Id,
                name: doc.Name.hasPrefix("/") ? String(doc.Name.dropFirst()) : doc.Name,
                image: doc.ImageName ?? doc.Config?.Image ?? "",
                imageID: prefixedID(doc.Image),
                state: ContainerState(engineText: doc.State.Status),
                exitCode: doc.State.ExitCode ?? 0,
                pid: doc.State.Pid ?? 0,
                startedAt: neverIsEmpty(doc.State.StartedAt),
                ipAddresses: addresses,
                labels: doc.Config?.Labels ?? [:],
                publishedPorts: publishedPorts(doc.NetworkSettings?.Ports ?? [:]))
        }
    }

    public static func containerList(_ data: [UInt8]) throws -> [ContainerSummary] {
        struct Doc: Decodable {
            var ID: String?              // Docker
            var Id: String?              // Podman
            var Names: Names
            var State: String
            var Labels: LabelSet?
        }
        return try objects(Doc.self, from: data, what: "container list").map {
            ContainerSummary(id: $0.ID ?? $0.Id ?? "", name: $0.Names.first, state: ContainerState(engineText: $0.State),
                             labels: $0.Labels?.values ?? [:])
        }
    }

    // MARK: Networks and volumes

    /// Names from `network ls`/`volume ls --format json` (`Name` on Docker; `name` or `Name` on Podman).
    public static func names(_ data: [UInt8], what: String) throws -> [String] {
        struct Doc: Decodable { var Name: String?; var name: String? }
        return try objects(Doc.self, from: data, what: what).compactMap { $0.Name ?? $0.name }
    }

    // MARK: Logs

    /// Splits a `logs --timestamps` line into the engine's timestamp and the text after it; nil
    /// when the line does not start with an RFC 3339 timestamp (an engine message, not log output).
    public static func logLine(_ line: Substring) -> LogLine? {
        guard let space = line.firstIndex(of: " ") else {
            return isTimestamp(line) ? LogLine(timestamp: String(line), text: "") : nil
        }
        let stamp = line[..<space]
        guard isTimestamp(stamp) else { return nil }
        return LogLine(timestamp: String(stamp), text: String(line[line.index(after: space)...]))
    }

    /// A timestamp that sorts as text: the fraction of a second padded to 9 digits. The engines
    /// print RFC 3339 with trailing zeros of the fraction dropped (`.4598834Z`), so two of their
    /// timestamps do not compare as strings.
    public static func sortableTimestamp(_ timestamp: String) -> String {
        guard timestamp.count >= 19 else { return timestamp }
        let head = timestamp.prefix(19)                       // 2026-11-21T20:16:04
        var rest = timestamp.dropFirst(19)
        var fraction = ""
        if rest.first == "." {
            rest = rest.dropFirst()
            fraction = String(rest.prefix { $0.isNumber })
            rest = rest.dropFirst(fraction.count)
        }
        fraction = String((fraction + "000000000").prefix(9))
        return head + "." + fraction + rest
    }

    /// `2026-11-21T20:16:04.459883408Z` or with a `+00:00` offset.
    static func isTimestamp(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":") else { return false }
        return bytes[0...3].allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    // MARK: Shapes

    /// Decodes a JSON array of `T`, or one `T` per line (Docker's `--format json`).
    static func objects<T: Decodable>(_ type: T.Type, from data: [UInt8], what: String) throws -> [T] {
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return [] }
        if text.hasPrefix("[") { return try decode([T].self, from: Array(text.utf8), what: what) }
        return try text.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }.map {
            try decode(T.self, from: Array($0.utf8), what: what)
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(data))
        } catch {
            throw ParseError(what: what, detail: "\(error) in \(preview(data))")
        }
    }

    static func preview(_ data: [UInt8]) -> String {
        let text = String(decoding: data.prefix(300), as: UTF8.self)
        return data.count > 300 ? text + "..." : text
    }

    static func prefixedID(_ id: String) -> String {
        id.isEmpty || id.hasPrefix("sha256:") ? id : "sha256:" + id
    }

    /// Both engines print the zero time for a container that never started.
    static func neverIsEmpty(_ time: String?) -> String {
        guard let time, !time.hasPrefix("0001-01-01") else { return "" }
        return time
    }
}

/// Container names: a string on Docker (comma-separated when a container has several), an array
/// on Podman.
struct Names: Decodable {
    var all: [String]
    var first: String { all.first ?? "" }
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let list = try? container.decode([String].self) {
            all = list
        } else {
            all = try container.decode(String.self).split(separator: ",").map(String.init)
        }
    }
}

/// Labels: an object on Podman, a `k=v,k=v` string on Docker.
struct LabelSet: Decodable {
    var values: [String: String]
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            values = [:]
        } else if let object = try? container.decode([String: String].self) {
            values = object
        } else {
            values = Self.parse(try container.decode(String.self))
        }
    }

    /// Docker joins labels with commas without escaping them, so a value that itself contains a
    /// comma arrives split: a piece without `=` is taken as the rest of the previous value.
    static func parse(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var lastKey: String?
        for piece in text.split(separator: ",", omittingEmptySubsequences: false) {
            if let equals = piece.firstIndex(of: "=") {
                let key = String(piece[..<equals])
                result[key] = String(piece[piece.index(after: equals)...])
                lastKey = key
            } else if let key = lastKey {
                result[key, default: ""] += "," + piece
            }
        }
        return result
    }
}
