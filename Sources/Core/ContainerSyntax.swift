/// Docker's short forms for volumes and ports, read once here for every caller (the Lua spec,
/// services). Each returns nil for text that is not of its form; `syntax` says what is.
extension Mount {
    /// How a volume is written: `"host:container"` or `"host:container:ro"` (`:rw` is the default).
    public static let syntax = #""host:container" or "host:container:ro""#

    /// `"/data:/var/lib/app"`, `"/etc/app.conf:/etc/app.conf:ro"`, `"named-volume:/data"`.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, parts[1].hasPrefix("/") else { return nil }
        var readOnly = false
        if parts.count == 3 {
            guard parts[2] == "ro" || parts[2] == "rw" else { return nil }
            readOnly = parts[2] == "ro"
        }
        self.init(hostPath: parts[0], containerPath: parts[1], readOnly: readOnly)
    }
}

extension PortMapping {
    /// How a port is written, as `docker run -p` takes it.
    public static let syntax = #"numbers or "[ip:][host:]container[/udp]""#

    /// `"9042"` (the engine picks the host port), `"9042:9042"`, `"127.0.0.1:9042:9042"`,
    /// `"127.0.0.1::2379"` (any host port on that address), `"53/udp"`.
    public init?(parsing text: String) {
        var spec = Substring(text), proto = "tcp"
        if let slash = text.firstIndex(of: "/") {
            spec = text[..<slash]
            proto = String(text[text.index(after: slash)...])
            guard ["tcp", "udp", "sctp"].contains(proto) else { return nil }
        }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func port(_ text: String) -> Int? { Int(text).flatMap { (1...65535).contains($0) ? $0 : nil } }
        guard let container = parts.last.flatMap(port) else { return nil }
        switch parts.count {
        case 1:
            self.init(containerPort: container, proto: proto)
        case 2:
            guard let host = port(parts[0]) else { return nil }
            self.init(hostPort: host, containerPort: container, proto: proto)
        case 3:
            guard !parts[0].isEmpty else { return nil }
            let host: Int?
            if parts[1].isEmpty { host = nil } else {
                guard let number = port(parts[1]) else { return nil }
                host = number
            }
            self.init(hostPort: host, containerPort: container, proto: proto, hostIP: parts[0])
        default:
            return nil
        }
    }
}
