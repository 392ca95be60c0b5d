import Foundation

/// What a test leaves behind for whoever investigates it (runner.md, "Artifacts"): per node its
/// whole log, the engine's inspect output and the configuration files ccm-lua generated; the
/// exact image each node ran; the run's seed; the test's history.
///
///     <folder>/<cluster>-<node>.log            the node's log (as `n:logs()` gives it)
///     <folder>/<cluster>-<node>.inspect.json   `docker|podman container inspect`
///     <folder>/<cluster>-<node>.config.json    its merged configuration and plan (command, env, files)
///     <folder>/<cluster>-<node>/conf/...       the generated files of the node folder
///     <folder>/images.json                     {"cluster/node": {"ref", "id", "digest"}}
///     <folder>/seed                            the run's seed (`--seed N` repeats the run)
///     <folder>/history.jsonl                   what happened during the test
///     <folder>/history-<n>.jsonl               each workload history the test recorded (ccm.history)
public enum TestArtifacts {
    /// One image a node ran.
    struct Image: Codable { var ref: String; var id: String?; var digest: String? }
    struct GeneratedConfig: Encodable { var config: ConfigValue; var plan: NodePlan }

    /// Writes everything it can; returns what it could not (one sentence each), so a failed
    /// copy of one file costs that file only.
    public static func save(_ clusters: [Cluster], into folder: URL, seed: Int64, history: [HistoryEvent]) async -> [String] {
        var problems: [String] = []
        func attempt(_ what: String, _ body: () throws -> Void) {
            do { try body() } catch { problems.append("\(what): \(error.localizedDescription)") }
        }
        attempt("create \(folder.path)") { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        var images: [String: Image] = [:]
        for cluster in clusters {
            let nodes = await cluster.nodeRecords
            let runtime = cluster.runtime
            // One engine call for every container; a missing one (removed by the test) is left out.
            var inspected: [String: ContainerInfo] = [:]
            for info in (try? await runtime.inspect(all: nodes.map(\.container))) ?? [] { inspected[info.name] = info }
            for node in nodes {
                let prefix = "\(cluster.name)-\(node.name)"
                if let log = try? await cluster.log(of: node.name) {
                    attempt("\(prefix).log") {
                        let text = try log.read(from: 0).lines.map { $0 + "\n" }.joined()
                        try Data(text.utf8).write(to: folder.appendingPathComponent("\(prefix).log"))
                    }
                }
                let raw = await runtime.inspectOutput(node.container)
                attempt("\(prefix).inspect.json") { try Data(raw.utf8).write(to: folder.appendingPathComponent("\(prefix).inspect.json")) }
                // What ccm-lua generated for the node: its merged configuration and plan (image,
                // command, environment, files); the files themselves follow.
                attempt("\(prefix).config.json") {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    try encoder.encode(GeneratedConfig(config: node.config, plan: node.plan))
                        .write(to: folder.appendingPathComponent("\(prefix).config.json"))
                }
                let nodeFolder = cluster.store.nodeDirectory(cluster.name, node.name)
                for file in node.plan.files {
                    attempt("\(prefix)/\(file.path)") {
                        let target = folder.appendingPathComponent(prefix).appendingPathComponent(file.path)
                        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                        try? FileManager.default.removeItem(at: target)
                        try FileManager.default.copyItem(at: nodeFolder.appendingPathComponent(file.path), to: target)
                    }
                }
                let image = try? await runtime.inspectImage(node.plan.image)
                images["\(cluster.name)/\(node.name)"] = Image(ref: node.plan.image, id: inspected[node.container]?.imageID ?? node.imageID ?? image?.id,
                                                               digest: image?.digest ?? image?.repoDigests.first)
            }
        }
        attempt("images.json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(images).write(to: folder.appendingPathComponent("images.json"))
        }
        attempt("seed") { try Data("\(seed)\n".utf8).write(to: folder.appendingPathComponent("seed")) }
        attempt("history.jsonl") { try HistoryFile.write(history, to: folder.appendingPathComponent("history.jsonl")) }
        // The workloads the test recorded, with its faults as nemesis operations, in ccm-lua's format.
        for workload in PublishedWorkload.all(in: history) {
            let merged = WorkloadFaults.merged(OperationHistory(workload.operations), events: history)
            attempt("\(workload.name).jsonl") {
                try OperationHistoryFormats.jsonLines(merged).write(to: folder.appendingPathComponent("\(workload.name).jsonl"))
            }
        }
        return problems
    }

    /// A test's folder name: its full name with everything but letters, digits, '-', '_' and '.'
    /// turned into '-' (at most 80 characters).
    public static func folderName(_ testName: String) -> String {
        var out = ""
        var lastDash = false
        for c in testName.unicodeScalars {
            let keep = CharacterSet.alphanumerics.contains(c) && c.isASCII || "-_.".unicodeScalars.contains(c)
            if keep { out.unicodeScalars.append(c); lastDash = false } else if !lastDash { out += "-"; lastDash = true }
        }
        while out.hasPrefix("-") { out.removeFirst() }
        return String(out.prefix(80))
    }
}

extension Cluster {
    var nodeRecords: [NodeRecord] { record.nodes }
}

extension ContainerRuntime {
    /// The engine's own inspect output of a container (JSON), for artifacts; what went wrong when
    /// it cannot be had. Engines driven through their CLI give exactly what `inspect` prints.
    func inspectOutput(_ container: ContainerRef) async -> String {
        if let hosts = self as? MultiHostRuntime { return await hosts.client(of: container).inspectOutput(container) }
        if let cli = commandLineClient {
            do { return try await cli.run(cli.arguments.inspectContainers([container]), subject: .container(container)).stdoutText }
            catch { return "{\"error\": \(String(reflecting: "\(error)"))}\n" }
        }
        do { return String(describing: try await inspect(container)) + "\n" } catch { return "\(error)\n" }
    }
}
