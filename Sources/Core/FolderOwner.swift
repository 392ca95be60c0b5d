import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who owns a node's mounted folders. The host creates them as the user running ccm-lua (often
/// root), and a container process running as another user cannot write there: PostgreSQL's
/// `initdb` fails with "could not change permissions of directory ... Operation not permitted".
///
/// The rule, in one place:
/// - the plan's `owner` ("uid" or "uid:gid") when it gives one: for images that start as root and
///   drop privileges themselves, or run as a user known only by name;
/// - else the plan's `user`, when it is numeric: the container runs as that user, so it owns its
///   folders;
/// - else, when the plan sets no `user`, the image's own `USER`, when it is numeric (`USER 1001`,
///   as bitnami's images have): the image runs as it;
/// - else nobody in particular: the folders stay as created (a container running as root writes
///   anywhere). A user given by name cannot be resolved here (the name lives in the image's
///   /etc/passwd), so then `owner` must say the numbers.
///
/// A uid without a gid means the same number for both. Only the mounted directories change hands
/// (recursively); generated files and `logs/` stay the host user's, because ccm-lua writes them.
/// The numbers are the container's: under a rootless engine the host shows the sub-uid they map to.
public struct FolderOwner: Sendable, Equatable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32
    public init(uid: UInt32, gid: UInt32) { self.uid = uid; self.gid = gid }
    public var description: String { "\(uid):\(gid)" }

    /// `imageUser`: the `USER` the image was built with, if any.
    public static func of(_ plan: NodePlan, node: String, imageUser: String? = nil) throws -> FolderOwner? {
        if let owner = plan.owner {
            guard let parsed = parse(owner) else {
                throw ClusterError(.config, "\(node)'s owner '\(owner)' must be numeric, \"uid\" or \"uid:gid\" (e.g. \"999:999\"; `docker run --rm --entrypoint id IMAGE` shows the image's)", node: node)
            }
            return parsed
        }
        if let user = plan.user { return parse(user) }
        return imageUser.flatMap(parse).flatMap { $0.uid == 0 ? nil : $0 }
    }

    static func parse(_ text: String) -> FolderOwner? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let uid = UInt32(parts[0]) else { return nil }
        guard parts.count == 2 else { return FolderOwner(uid: uid, gid: uid) }
        return UInt32(parts[1]).map { FolderOwner(uid: uid, gid: $0) }
    }

    /// Whether the host's uids are the container's, so a chown here means the same owner there.
    /// A rootless engine maps them (0 to the user itself, the rest to its sub-uids): there a chown
    /// on the host gives the folders to someone else, and succeeds silently for the user's own uid.
    public static func givenOnHost(location: EngineLocation) -> Bool { !location.isRootless }

    /// `chown -R` from this process; false when it may not (ccm-lua is not root).
    func apply(toTree path: String) -> Bool {
        guard chown(path, uid, gid) == 0 else { return false }
        guard let walker = FileManager.default.enumerator(atPath: path) else { return true }
        for case let relative as String in walker where lchown(path + "/" + relative, uid, gid) != 0 { return false }
        return true
    }
}

extension Cluster {
    /// Gives a node's mounted directories to their owner (see `FolderOwner`) before its container
    /// starts: directly where this process may (root of a rootful engine), else with `chown` run
    /// as root in a throwaway container of the node's image (argv, no shell needed).
    func handOverFolders(_ spec: NodeSpec, imageUser: String?) async throws {
        guard let owner = try FolderOwner.of(spec.plan, node: spec.name, imageUser: imageUser),
              !spec.plan.directories.isEmpty else { return }
        let dir = store.nodeDirectory(name, spec.name)
        let relative = spec.plan.directories.map(\.path)
        // A remote engine's folders are volumes there (NodeFolders): only a container reaches them.
        let volumes = foldersAreVolumes
        let rootless = !FolderOwner.givenOnHost(location: runtime.location)
        // A rootless container's root is this user, who made the folders: nothing to hand over.
        if rootless, !volumes, owner == FolderOwner(uid: 0, gid: 0) { return }
        if !rootless, !volumes, relative.allSatisfy({ owner.apply(toTree: dir.appendingPathComponent($0).path) }) { return }
        var c = ContainerSpec(name: "\(Cluster.containerName(name, spec.name))-chown-\(Labels.runID)", image: spec.plan.image)
        c.labels = Labels.forResource(cluster: name, keep: record.keep)
        c.entrypoint = ["chown", "-R", owner.description] + relative.map { "/target/" + $0 }
        c.command = []
        c.mounts = volumes ? folderVolumeMounts(spec.plan, node: spec.name, under: "/target")
            : [Mount(hostPath: dir.path, containerPath: "/target")]
        c.user = "0"
        var reason: String
        do {
            let result = try await runToCompletion(c, timeout: Defaults.folderContainerTimeout)
            if result.code == 0 { return }
            reason = "`chown` in a container of \(spec.plan.image) exited \(result.code)"
        } catch let error as RuntimeError where error.kind == .startFailed {
            reason = error.stderr.lowercased().contains("executable file not found")
                ? "the image \(spec.plan.image) has no `chown` to do it from a container" : error.summary
        }
        let paths = relative.map { dir.appendingPathComponent($0).path }.joined(separator: " ")
        if rootless {
            // `podman unshare` sees the uids as the engine's containers do.
            throw ClusterError(.config, "cannot give \(spec.name)'s folders to \(owner): the engine is rootless, so its uids differ from this host's and only a container can, and \(reason). Give them yourself as the engine sees them: podman unshare chown -R \(owner) \(paths)", node: spec.name)
        }
        throw ClusterError(.config, "cannot give \(spec.name)'s folders to \(owner): this user may not change their owner, and \(reason). Run ccm-lua as root, or give them yourself: sudo chown -R \(owner) \(paths)", node: spec.name)
    }
}
