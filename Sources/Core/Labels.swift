import Foundation

/// The labels ccm-lua puts on every container, network and volume it creates.
///
/// They are how ccm-lua finds its own resources again (`ccm-lua gc` cleaning up after a crashed
/// process, `ccm-lua rm`), and the guarantee that it never touches anything else: every list or
/// removal by label requires at least one of these keys.
public enum Labels {
    /// The cluster a resource belongs to (the name the script gave it).
    public static let cluster = "ccm-lua.cluster"
    /// The node (container) name within its cluster.
    public static let node = "ccm-lua.node"
    /// One random id per ccm-lua process: tells apart two runs that use the same cluster name.
    public static let run = "ccm-lua.run"
    /// The process id that created the resource, so a cleanup can tell whether its owner is alive.
    public static let ownerPID = "ccm-lua.owner-pid"
    /// Which machine and pid namespace `ownerPID` belongs to: a pid means nothing to a `gc` that
    /// runs elsewhere (a remote engine shared by several machines, CI jobs in their own pid
    /// namespaces), so `gc` judges only owners recorded with its own identity.
    public static let ownerHost = "ccm-lua.owner-host"
    /// "true" on the resources of a cluster created with `keep`: `gc` never removes them, even when
    /// their record lives in another state directory it cannot read.
    public static let keep = "ccm-lua.keep"

    /// Every key that marks a resource as ours.
    public static let ownKeys: Set<String> = [cluster, node, run, ownerPID, ownerHost, keep]

    /// This process's run id: 12 lowercase hex digits, chosen once per process. Short enough to
    /// appear in container names, random enough that parallel runs on one machine do not collide.
    public static let runID: String = {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() & 0xFFFF_FFFF_FFFF
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 12 - hex.count) + hex
    }()

    /// This process's id, as the label value.
    public static let ownerPIDValue = String(ProcessInfo.processInfo.processIdentifier)

    /// This machine and pid namespace: `/etc/machine-id` (the hostname where there is none) and
    /// the inode of `/proc/self/ns/pid`, e.g. `3f2a…9c/4026531836`. Two processes whose identities
    /// are equal see the same pids.
    public static let hostIdentity: String = {
        let machine = ["/etc/machine-id", "/var/lib/dbus/machine-id"].lazy
            .compactMap { try? String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
            .first { !$0.isEmpty } ?? ProcessInfo.processInfo.hostName
        // The link reads `pid:[4026531836]`; where /proc is missing the machine alone is all there is.
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? ""
        let namespace = link.filter(\.isNumber)
        return namespace.isEmpty ? machine : "\(machine)/\(namespace)"
    }()

    /// The labels for a resource created by this process: run, owner pid and host, plus cluster,
    /// node and keep when given.
    public static func forResource(cluster: String? = nil, node: String? = nil, keep: Bool? = nil) -> [String: String] {
        var labels = [run: runID, ownerPID: ownerPIDValue, ownerHost: hostIdentity]
        if let cluster { labels[Self.cluster] = cluster }
        if let node { labels[Self.node] = node }
        if let keep { labels[Self.keep] = keep ? "true" : "false" }
        return labels
    }

    /// Whether a label set is specific enough to select only ccm-lua's resources: it must name at
    /// least one of our keys. An empty set would select everything on the engine.
    public static func selectsOnlyOurs(_ labels: [String: String]) -> Bool {
        labels.keys.contains { ownKeys.contains($0) }
    }
}
