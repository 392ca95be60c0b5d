import Foundation

/// Where a node's mounted folders live. A local engine bind-mounts the node's folder in the state
/// directory (`<state>/<cluster>/<node>/data`), so the user sees the files on this machine. A
/// remote engine cannot: it would mount (and silently create) a folder of that name on *its*
/// host, which nothing ever removes, and a generated file would arrive there as an empty folder.
/// So on a remote engine:
/// - each of the plan's `directories` is a volume on that engine, named by `volumeName` and
///   labelled like the cluster's other resources (removed with the cluster, by `gc` and by the
///   reaper);
/// - each generated file with a `containerPath` is copied into the container after it is
///   created, and again whenever ccm-lua writes it anew (`n:set_config`);
/// - the files stay in the node's folder here too, as on a local engine (artifacts read them).
public enum NodeFolders {
    /// Volumes on the engine instead of this machine's folders.
    public static func areVolumes(_ location: EngineLocation) -> Bool { location.isRemote }

    /// `ccm-lua-<cluster>-<node>-<path>`, e.g. `ccm-lua-demo-node1-data`: unique per node folder,
    /// and readable in `docker volume ls`.
    public static func volumeName(cluster: String, node: String, directory: String) -> String {
        let path = String(directory.unicodeScalars.map { scalar -> Character in
            let c = Character(scalar)
            return c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == ".") ? c : "-"
        })
        return "\(Cluster.networkName(cluster))-\(node)-\(path)"
    }
}

extension Cluster {
    /// Whether this cluster's node folders are volumes on its engine (see `NodeFolders`).
    nonisolated var foldersAreVolumes: Bool {
        (runtime as? MultiHostRuntime)?.spansRemoteEngines ?? NodeFolders.areVolumes(runtime.location)
    }

    /// The mounts of a node's directories as volumes, under `root` ("" for their place in the node).
    nonisolated func folderVolumeMounts(_ plan: NodePlan, node: String, under root: String? = nil) -> [Mount] {
        plan.directories.map { directory in
            Mount(hostPath: NodeFolders.volumeName(cluster: name, node: node, directory: directory.path),
                  containerPath: root.map { $0 + "/" + directory.path } ?? directory.containerPath)
        }
    }

    /// Creates the volumes of a node's directories on the engine (creating one that exists is
    /// harmless: a recreated node keeps its data).
    func createFolderVolumes(_ plan: NodePlan, node: String) async throws {
        guard foldersAreVolumes else { return }
        let existing = Set(try await runtime.listVolumes(labels: [Labels.cluster: name, Labels.node: node]))
        for mount in folderVolumeMounts(plan, node: node) where !existing.contains(mount.hostPath) {
            try await runtime.createVolume(VolumeSpec(name: mount.hostPath, labels: Labels.forResource(cluster: name, node: node, keep: record.keep)))
        }
    }

    /// Copies a node's generated files that the container reads into its container (they are not
    /// mounted on a remote engine).
    func copyFilesIn(_ plan: NodePlan, node: String, container: String) async throws {
        guard foldersAreVolumes else { return }
        let dir = store.nodeDirectory(name, node)
        for file in plan.files {
            guard let target = file.containerPath else { continue }
            let content = try Data(contentsOf: dir.appendingPathComponent(file.path))
            do {
                try await runtime.copyIn(container, content: [UInt8](content), to: target)
            } catch let error as RuntimeError {
                throw ClusterError(.config, "cannot put \(node)'s \(file.path) at \(target) in its container on the remote engine (\(runtime.location.detail ?? "remote")): \(error.summary) The folder \((target as NSString).deletingLastPathComponent) must exist in the image.", node: node)
            }
        }
    }

    /// Removes the volumes of the cluster's (or one node's) folders on a remote engine.
    func removeFolderVolumes(node: String? = nil) async throws {
        guard foldersAreVolumes else { return }
        var labels = [Labels.cluster: name]
        if let node { labels[Labels.node] = node }
        for volume in try await runtime.listVolumes(labels: labels) { try await runtime.removeVolume(volume) }
    }
}
