import Foundation

/// The cluster ccm-style commands act on when none is named, kept as ccm keeps it: one line in
/// `<state>/CURRENT`. `create` and `switch` set it; removing that cluster clears it.
public struct CurrentCluster: Sendable {
    public let store: StateStore
    public init(store: StateStore = .fromEnvironment()) { self.store = store }

    var file: URL { store.home.appendingPathComponent("CURRENT") }

    /// The name, when one is set (whether or not the cluster still exists).
    public var name: String? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return name.isEmpty ? nil : name
    }

    public func set(_ name: String) throws {
        try Cluster.validate(name: name)
        try FileManager.default.createDirectory(at: store.home, withIntermediateDirectories: true)
        try writeAtomically(Data((name + "\n").utf8), to: file)
    }

    /// Forgets the current cluster when it is `name` (or any, with nil).
    public func clear(ifItIs name: String? = nil) {
        guard name == nil || self.name == name else { return }
        try? FileManager.default.removeItem(at: file)
    }

    /// `explicit` when given, else the current cluster; a usage error saying how to choose one.
    public func resolve(_ explicit: String?) throws -> String {
        if let explicit { return explicit }
        guard let name else {
            let known = store.list()
            throw ClusterError(.usage, "no current cluster: create one with `ccm-lua create NAME -n 3 ...` or choose one with `ccm-lua switch NAME`"
                               + (known.isEmpty ? "" : " (clusters: \(known.joined(separator: ", ")))"))
        }
        guard store.exists(name) else {
            throw ClusterError(.notFound, "the current cluster '\(name)' no longer exists in \(store.home.path); choose another with `ccm-lua switch NAME`")
        }
        return name
    }
}

extension StateStore {
    /// Empties the node folders a profile mounts as data (`NodePlan.directories`), as `ccm clear`
    /// does; configuration files and captured logs stay. The nodes must be stopped.
    public func clearNodeData(_ record: ClusterRecord) throws {
        for node in record.nodes {
            for directory in node.plan.directories {
                let folder = nodeDirectory(record.name, node.name).appendingPathComponent(directory.path)
                for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
                    do { try FileManager.default.removeItem(at: folder.appendingPathComponent(entry)) } catch {
                        throw ClusterError(.state, "cannot empty \(folder.path): \(error.localizedDescription); a container may have written it as another user: remove it by hand, or remove the cluster")
                    }
                }
            }
        }
    }
}
