import Foundation
import PackagePlugin

/// Turns every `.lua` file under the target's `lua/` folder into a Swift table of module sources,
/// so the built-in library (`require "ccm.profiles.etcd"`) ships inside the binary.
@main
struct EmbedLua: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let root = target.directoryURL.appending(path: "lua")
        let files = luaFiles(under: root)
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedLua.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) Lua modules into \(target.name)",
                executable: try context.tool(named: "embed-lua").url,
                arguments: [root.path(), output.path()] + files.map { $0.path() },
                inputFiles: files,
                outputFiles: [output]
            ),
        ]
    }

    private func luaFiles(under root: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "lua" }
            .sorted { $0.path() < $1.path() }
    }
}
