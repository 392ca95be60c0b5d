/// The built-in Lua library, compiled in by the EmbedLua plugin.
enum BuiltinLibrary {
    static func source(of module: String) -> (chunkName: String, source: String)? { embeddedLuaModules[module] }
}
