import Core
import Foundation

/// The `image` global: images as scripts see them (API.md, "image"). Each call translates
/// arguments and calls the engine through Core's `ContainerRuntime`; the pull rule lives in
/// Core's `ImagePolicy`. Every function takes an optional last table `{runtime = "docker"|"podman"}`.
enum ImageModule {
    static var module: LuaModule {
        var module = LuaModule("ccm.image")
        module.function("exists", exists)
        module.function("pull", pull)
        module.function("inspect", inspect)
        module.function("build", build)
        return module
    }

    /// exists(ref) -> boolean
    static func exists(_ ctx: LuaCallContext) throws -> LuaReturn {
        let reference = try ctx.string(1)
        let engine = try engine(ctx, 2)
        return ctx.suspend({ try await EngineCache.shared.runtime(engine).imageExists(reference) }) { ctx, found in
            ctx.push(found)
            return 1
        }
    }

    /// pull(ref) -> id. Always asks the registry (that is what a script calling it wants); the
    /// engine's progress goes to a terminal when stderr is one.
    static func pull(_ ctx: LuaCallContext) throws -> LuaReturn {
        let reference = try ctx.string(1)
        let engine = try engine(ctx, 2)
        let progress = ImageOutput.terminal()
        return ctx.suspend({
            try await ImagePolicy.ensure(reference, policy: .always, runtime: try await EngineCache.shared.runtime(engine),
                                         progress: progress)
        }) { ctx, info in
            ctx.push(info.id)
            return 1
        }
    }

    /// inspect(ref) -> {id =, digest =, created =, labels =, size =, tags =}; kind "image" when absent.
    static func inspect(_ ctx: LuaCallContext) throws -> LuaReturn {
        let reference = try ctx.string(1)
        let engine = try engine(ctx, 2)
        return ctx.suspend({ try await EngineCache.shared.runtime(engine).inspectImage(reference) }) { ctx, info in
            ctx.push(table(info))
            return 1
        }
    }

    /// build{context =, file =, tag =, args = {}, target =, labels = {}, runtime =} -> id, log file.
    /// `file` is relative to `context`. Output goes to the terminal when stderr is one, and always to
    /// a log file under the state directory (its path is the second result).
    static func build(_ ctx: LuaCallContext) throws -> LuaReturn {
        try ctx.checkTable(1)
        guard let options = try ctx.options(1), let context = try options.string("context") else {
            throw LuaArgumentError(1, detail: "field 'context': the folder to build from is required")
        }
        let contextURL = URL(fileURLWithPath: context)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: contextURL.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LuaError(kind: "usage", "image.build: context '\(context)' is not a folder")
        }
        let tag = try options.string("tag") ?? ImageBuilds.defaultTag(context: contextURL)
        var request = ImageBuild(contextDirectory: contextURL.path, tag: tag, buildArgs: try options.stringMap("args") ?? [:])
        if let file = try options.string("file") {
            request.dockerfile = file.hasPrefix("/") ? file : contextURL.appendingPathComponent(file).path
        }
        request.target = try options.string("target")
        request.labels = (try options.stringMap("labels") ?? [:]).merging([ImageLabels.built: "1"]) { _, ours in ours }
        let engine = try ClusterModule.engineName(try options.string("runtime").map { .string($0) })
        let log = try ImageBuilds.logFile(store: StateStore.fromEnvironment(), tag: tag)
        let output = ImageOutput.teeing(to: log, terminal: ImageOutput.terminal())
        request.progress = output.progress
        let built = request
        return ctx.suspend({ () -> String in
            defer { output.close() }
            let runtime = try await EngineCache.shared.runtime(engine)
            try await runtime.buildImage(built)
            return try await runtime.inspectImage(tag).id
        }) { ctx, id in
            ctx.push(id)
            ctx.push(log.path)
            return 2
        }
    }

    static func table(_ info: ImageInfo) -> LuaValue {
        var fields: [String: LuaValue] = [
            "id": .string(info.id), "labels": .table(info.labels.mapValues { .string($0) }),
            "tags": .array(info.tags.map { .string($0) }),
        ]
        if let digest = info.digest { fields["digest"] = .string(digest) }
        if let created = info.created { fields["created"] = .string(created) }
        if let size = info.size { fields["size"] = .integer(Int(size)) }
        return .table(fields)
    }

    private static func engine(_ ctx: LuaCallContext, _ index: Int32) throws -> Engine? {
        try ClusterModule.engineName(try ctx.options(index)?.string("runtime").map { .string($0) })
    }
}
