import ArgumentParser
import Core
import Foundation

/// `ccm-lua image ls|build|pull|rm`: the images ccm-lua built (labelled `ccm-lua.built`) or that a
/// cluster in the state directory runs. The same Core calls as the Lua `image` module.
struct Image: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, build, pull and remove the images ccm-lua built or uses.",
        subcommands: [ImageList.self, ImageBuildCommand.self, ImagePull.self, ImageRemove.self])
}

/// Which engine an image command talks to.
struct EngineOption: ParsableArguments {
    @Option(name: [.customLong("runtime"), .customLong("container-runtime")],
            help: "docker or podman (default: CCM_LUA_RUNTIME, CCM_CONTAINER_RUNTIME, then the first engine that answers).")
    var runtime: String?

    func validate() throws {
        if let runtime, EngineDiscovery.engine(named: runtime) == nil {
            throw ValidationError("--runtime must be docker or podman (got '\(runtime)')")
        }
    }

    func containerRuntime() async throws -> any ContainerRuntime {
        if let runtime, let engine = EngineDiscovery.engine(named: runtime) {
            return EngineDiscovery.runtime(for: engine)
        }
        return try await EngineDiscovery().discover()
    }
}

struct ImageList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "Images ccm-lua built, and images the clusters in the state directory run.",
        discussion: "SOURCE is \"built\" (made by image.build or `ccm-lua image build`) and/or the clusters using it.")

    @OptionGroup var engine: EngineOption
    @Flag(name: .long, help: "Print JSON: one object per image.") var json = false

    func run() async throws {
        do {
            let runtime = try await engine.containerRuntime()
            let images = try await Self.images(runtime: runtime, inventory: ClusterInventory())
            if json {
                print(Output.json(images.map { image -> [String: Any] in
                    ["id": image.info.id, "tags": image.info.tags, "digest": image.info.digest ?? NSNull(),
                     "created": image.info.created ?? NSNull(), "size": image.info.size ?? NSNull(),
                     "built": image.built, "clusters": image.clusters]
                }))
                return
            }
            if images.isEmpty { print("no images built or used by ccm-lua on \(runtime.engine.rawValue)"); return }
            print(Output.table(["IMAGE", "ID", "SIZE", "SOURCE"], images.map { image in
                [image.info.tags.first ?? "<none>", ImageText.shortID(image.info.id),
                 image.info.size.map(ImageText.size) ?? "-", image.source]
            }))
        } catch let exit as ExitCode { throw exit } catch { throw Output.fail("image ls", error) }
    }

    struct Listed {
        var info: ImageInfo
        var built: Bool
        var clusters: [String]
        var source: String { ((built ? ["built"] : []) + clusters.map { "cluster \($0)" }).joined(separator: ", ") }
    }

    /// Built images (by label) plus the images recorded by the clusters on this engine.
    static func images(runtime: any ContainerRuntime, inventory: ClusterInventory) async throws -> [Listed] {
        var listed: [String: Listed] = [:]
        for info in try await runtime.listImages(labels: [ImageLabels.built: ""]) {
            listed[info.id] = Listed(info: info, built: true, clusters: [])
        }
        var used: [String: Set<String>] = [:]
        for entry in inventory.entries() {
            guard let record = entry.record, record.engine == runtime.engine else { continue }
            for node in record.nodes { if let id = node.imageID { used[id, default: []].insert(record.name) } }
        }
        for (id, clusters) in used {
            if listed[id] == nil {
                guard let info = try? await runtime.inspectImage(id) else { continue }   // removed since
                listed[id] = Listed(info: info, built: info.labels[ImageLabels.built] != nil, clusters: [])
            }
            listed[id]?.clusters = clusters.sorted()
        }
        return listed.values.sorted { ($0.info.tags.first ?? $0.info.id) < ($1.info.tags.first ?? $1.info.id) }
    }
}

struct ImageBuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an image (labelled as ccm-lua's); prints its id.",
        discussion: "The build's output is shown on a terminal and always kept in <state>/images/build-*.log.")

    @Argument(help: "The build context folder.") var context: String
    @Option(name: [.short, .customLong("tag")], help: "The image's name (default ccm-lua-build/<folder>:latest).") var tag: String?
    @Option(name: [.short, .customLong("file")], help: "The Dockerfile, relative to the context.") var file: String?
    @Option(name: .customLong("build-arg"), help: "KEY=VALUE (repeatable).") var buildArgs: [String] = []
    @Option(name: .customLong("label"), help: "KEY=VALUE (repeatable).") var labels: [String] = []
    @Option(help: "The stage of a multi-stage Dockerfile.") var target: String?
    @OptionGroup var engine: EngineOption

    func validate() throws {
        for pair in buildArgs + labels where !pair.contains("=") {
            throw ValidationError("'\(pair)' is not KEY=VALUE")
        }
    }

    func run() async throws {
        let contextURL = URL(fileURLWithPath: context)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: contextURL.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Output.fail("image build", "'\(context)' is not a folder: give the build context (the folder with the Dockerfile)")
        }
        let tag = self.tag ?? ImageBuilds.defaultTag(context: contextURL)
        var request = ImageBuild(contextDirectory: contextURL.path, tag: tag, buildArgs: Self.pairs(buildArgs))
        request.dockerfile = file.map { $0.hasPrefix("/") ? $0 : contextURL.appendingPathComponent($0).path }
        request.target = target
        request.labels = Self.pairs(labels).merging([ImageLabels.built: "1"]) { _, ours in ours }
        do {
            let log = try ImageBuilds.logFile(store: .fromEnvironment(), tag: tag)
            let output = ImageOutput.teeing(to: log, terminal: ImageOutput.terminal())
            defer { output.close() }
            request.progress = output.progress
            let runtime = try await engine.containerRuntime()
            do { try await runtime.buildImage(request) } catch {
                throw Output.fail("image build", "\(error)\n  the whole output is in \(log.path)")
            }
            let info = try await runtime.inspectImage(tag)
            Output.line("\(tag) \(info.id)")
        } catch let exit as ExitCode { throw exit } catch { throw Output.fail("image build", error) }
    }

    static func pairs(_ list: [String]) -> [String: String] {
        Dictionary(list.map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }) { _, last in last }
    }
}

struct ImagePull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Pull an image from its registry; prints its id.")

    @Argument(help: "The image reference.") var reference: String
    @OptionGroup var engine: EngineOption

    func run() async throws {
        do {
            let runtime = try await engine.containerRuntime()
            let info = try await ImagePolicy.ensure(reference, policy: .always, runtime: runtime, progress: ImageOutput.terminal())
            Output.line("\(reference) \(info.id)\(info.digest.map { " \($0)" } ?? "")")
        } catch { throw Output.fail("image pull", error) }
    }
}

struct ImageRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove images ccm-lua built.",
        discussion: """
            Refuses an image ccm-lua did not build (it may be one you pulled or built yourself) unless \
            --force, and an image a cluster in the state directory runs (remove the cluster first).
            """)

    @Argument(help: "Image references or ids.") var references: [String] = []
    @Flag(name: .long, help: "Also remove images ccm-lua did not build.") var force = false
    @OptionGroup var engine: EngineOption

    func validate() throws {
        if references.isEmpty { throw ValidationError("name the images to remove (`ccm-lua image ls` lists them)") }
    }

    func run() async throws {
        var failed = false
        do {
            let runtime = try await engine.containerRuntime()
            let listed = try await ImageList.images(runtime: runtime, inventory: ClusterInventory())
            for reference in references {
                do {
                    guard let info = try? await runtime.inspectImage(reference) else {
                        Output.line("\(reference): not there"); continue
                    }
                    let known = listed.first { $0.info.id == info.id }
                    if let clusters = known?.clusters, !clusters.isEmpty {
                        throw CLIProblem("\(reference) is run by \(clusters.joined(separator: ", ")); remove those clusters first (`ccm-lua rm NAME`)")
                    }
                    if known?.built != true && info.labels[ImageLabels.built] == nil && !force {
                        throw CLIProblem("\(reference) was not built by ccm-lua; pass --force to remove it anyway")
                    }
                    try await runtime.removeImage(reference)
                    Output.line("removed \(reference)")
                } catch {
                    failed = true
                    Output.complain("image rm", "\(error)")
                }
            }
        } catch { throw Output.fail("image rm", error) }
        if failed { throw ExitCode(1) }
    }
}

struct CLIProblem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum ImageText {
    static func shortID(_ id: String) -> String {
        String((id.hasPrefix("sha256:") ? String(id.dropFirst(7)) : id).prefix(12))
    }

    static func size(_ bytes: Int64) -> String {
        let mb = Double(bytes) / 1_000_000
        return mb >= 1000 ? String(format: "%.1f GB", mb / 1000) : String(format: "%.0f MB", mb)
    }
}

extension ImageText {
    /// `status -v`: the status table plus each node's image id and digest.
    static func pinned(_ record: ClusterRecord, _ nodes: [NodeStatus]) -> String {
        let head = "\(record.name) (\(record.profile) on \(record.engine.rawValue)\(record.keep ? ", kept" : ""))"
        let rows = nodes.map { node -> [String] in
            let pinned = record.nodes.first { $0.name == node.name }
            return [node.name, node.nodeState, node.ip ?? "-", node.image, pinned?.imageID ?? "-", pinned?.imageDigest ?? "-"]
        }
        return head + "\n" + Output.table(["NODE", "STATE", "IP", "IMAGE", "IMAGE ID", "DIGEST"], rows)
    }
}
