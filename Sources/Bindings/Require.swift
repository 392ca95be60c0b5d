import CLua
import CLuaShim

/// `require`'s search order: the script's folder, ./lib/, every folder of CCM_LUA_PATH (";;"
/// stands for Lua's default path), then the built-in library compiled into the binary.
/// The folders become `package.path` (so scripts can still inspect or change it); the built-in
/// library is one more entry at the end of `package.searchers`.
enum RequirePath {
    static func install(in vm: LuaVM, settings: HostSettings) {
        let L = vm.main
        vm.pushRegistryTable(LUA_LOADED_TABLE)
        LuaStack.push("package", on: L)
        lua_rawget(L, -2)
        ccm_remove(L, -2)  // [package]

        LuaStack.push("path", on: L)
        lua_rawget(L, -2)
        let defaultPath = LuaStack.string(at: -1, on: L) ?? "./?.lua;./?/init.lua"
        ccm_pop(L, 1)
        LuaStack.push(searchPath(settings: settings, defaultPath: defaultPath), on: L)
        LuaStack.setField("path", on: L)

        LuaStack.push("searchers", on: L)
        lua_rawget(L, -2)
        let count = lua_rawlen(L, -1)
        vm.pushFunction("builtin searcher", searchBuiltin)
        lua_rawseti(L, -2, lua_Integer(count + 1))
        ccm_pop(L, 2)
    }

    static func searchPath(settings: HostSettings, defaultPath: String) -> String {
        func templates(_ folder: String) -> [String] {
            if folder.contains("?") { return [folder] }  // already a template
            let base = folder.hasSuffix("/") ? folder : folder + "/"
            return [base + "?.lua", base + "?/init.lua"]
        }
        var entries: [String] = []
        if let folder = settings.scriptFolder { entries += templates(folder) }
        entries += templates("./lib")
        if let extra = settings.extraPath {
            var insertedDefault = false
            let parts = extra.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            for (offset, part) in parts.enumerated() {
                if part.isEmpty {
                    // ";;" (an empty entry between two separators) means the default path.
                    let isDoubled = offset > 0 && offset < parts.count - 1
                    if isDoubled && !insertedDefault { entries.append(defaultPath); insertedDefault = true }
                } else {
                    entries += templates(part)
                }
            }
        } else {
            entries.append(defaultPath)
        }
        return entries.joined(separator: ";")
    }

    /// package.searchers' last entry: finds `ccm.*` (and any other embedded) modules.
    private static func searchBuiltin(_ ctx: LuaCallContext) throws -> LuaReturn {
        let name = try ctx.string(1)
        guard let (chunkName, source) = BuiltinLibrary.source(of: name) else {
            ctx.push("no built-in module '\(name)'")
            return 1
        }
        guard LuaChunk.load(source, named: chunkName, on: ctx.state) == LUA_OK else {
            let message = LuaStack.describe(at: -1, on: ctx.state)
            throw LuaError(kind: "runtime", "error loading built-in module '\(name)': \(message)")
        }
        ctx.push(String(chunkName.dropFirst()))  // the loader's second argument, as for files
        return 2
    }
}
