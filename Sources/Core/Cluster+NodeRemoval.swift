import Foundation

extension Cluster {
    /// Removes one node as ccm's `nodeN remove` does: stops it (gently unless told otherwise),
    /// removes its container and its folder, and drops it from the record, so `status`, `c:nodes()`
    /// and a later `cluster.get` no longer know it. The other nodes are not touched: telling a
    /// database that a member leaves is the profile's part (its `on_remove`), done before this.
    public func removeNode(_ name: String, gently: Bool = true, timeout: Double = Defaults.stopTimeout) async throws {
        let node = try self.node(name)
        try await History.run.record(kind: "node", name: "remove", targets: [name], details: ["cluster": self.name]) {
            if gently {
                let state = try? await runtime.inspect(node.container).state
                // A paused process cannot act on SIGTERM: let it run, then ask it to stop.
                if state == .paused { try await runtime.unpause(node.container) }
                if state == .running || state == .paused || state == .restarting {
                    try await runtime.stop(node.container, timeout: timeout)
                }
            }
            await logs[name]?.stopFollowing()
            try await runtime.remove(node.container)
            // Out of the record before the folder goes: a folder that resists is then only a
            // leftover on disk, not a node that half exists.
            record.nodes.removeAll { $0.name == name }
            logs[name] = nil
            neverStarted.remove(name)
            try store.save(record)
            try await removeFolderVolumes(node: name)
            try await removeNodeFolder(name)
        }
    }

    /// The node's folder; files its container wrote as another user are removed from inside a
    /// throwaway container, as for the whole cluster's folder.
    private func removeNodeFolder(_ node: String) async throws {
        let dir = store.nodeDirectory(name, node)
        guard FileManager.default.fileExists(atPath: dir.path) else { return }
        do { try FileManager.default.removeItem(at: dir); return } catch {}
        let refusals = try await emptyFolderInContainer(dir)
        do { try FileManager.default.removeItem(at: dir) } catch {
            let reason = error.localizedDescription.trimmingCharacters(in: CharacterSet(charactersIn: "."))
            let tried = refusals.isEmpty ? "" : " and could not be emptied from a container either (\(refusals.joined(separator: "; ")))"
            throw ClusterError(.state, "node \(node) is removed, but its folder \(dir.path) is not: \(reason)\(tried). Remove it as root: sudo rm -rf \(dir.path)")
        }
    }
}
