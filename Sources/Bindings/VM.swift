import CLua
import CLuaShim

/// One Lua state and everything that lives as long as it: the Swift functions Lua can call, the
/// error metatable, userdata types, the scheduler, the log and the cleanup registry.
/// Used only on the Lua thread (see `LuaHost`).
public final class LuaVM {
    public let main: LuaState
    let settings: HostSettings
    private(set) var errors: ErrorValues!
    private(set) var objects: ObjectTypes!
    private(set) var scheduler: Scheduler!
    public let cleanup = CleanupRegistry()
    let log: LogWriter
    /// Swift function bodies, owned here (Lua holds them as light userdata).
    private var functions: [LuaFunctionBox] = []

    init(settings: HostSettings) {
        ccm_set_dispatch(dispatchToSwift)
        self.settings = settings
        log = LogWriter(level: settings.logLevel)
        guard let state = ccm_newstate() else { fatalError("ccm-lua: cannot create a Lua state") }
        main = state
        // Before any coroutine exists: every coroutine inherits the hook from the main thread.
        ccm_install_interrupt_hook(main)
        guard ccm_openlibs(main) == LUA_OK else { fatalError("ccm-lua: cannot open the Lua standard libraries") }
        errors = ErrorValues(main: main)
        objects = ObjectTypes(vm: self)
        scheduler = Scheduler(vm: self)
    }

    deinit {
        lua_close(main)  // runs every pending __gc, which still needs `functions`
    }

    // MARK: Registering Swift functions

    /// Pushes a Lua function that calls `body`. The `upvalues` values on top of the stack are
    /// popped and become upvalues 2... (upvalue 1 is taken by the trampoline).
    public func pushFunction(_ name: String, upvalues: Int32 = 0, _ body: @escaping LuaFunction, on L: LuaState? = nil) {
        let box = LuaFunctionBox(name: name, vm: self, body: body)
        functions.append(box)
        ccm_pushfunction(L ?? main, Unmanaged.passUnretained(box).toOpaque(), upvalues)
    }

    /// Sets a global (raw: the globals table's lazy loader is not involved).
    public func setGlobal(_ name: String, _ body: @escaping LuaFunction) {
        ccm_pushglobaltable(main)
        pushFunction(name, body)
        LuaStack.setField(name, on: main)
        ccm_pop(main, 1)
    }

    /// Makes `require(module.name)` build the module's table from Swift on first use.
    public func preload(_ module: LuaModule) {
        pushRegistryTable(LUA_PRELOAD_TABLE)
        pushFunction(module.name, { [unowned(unsafe) self] ctx in
            pushModuleTable(module, on: ctx.state)
            return 1
        })
        LuaStack.setField(module.name, on: main)
        ccm_pop(main, 1)
    }

    /// Pushes a fresh table of the module's functions.
    func pushModuleTable(_ module: LuaModule, on L: LuaState) {
        lua_checkstack(L, 4)
        lua_createtable(L, 0, Int32(module.functions.count))
        for (name, body) in module.functions {
            pushFunction(name, body, on: L)
            LuaStack.setField(name, on: L)
        }
    }

    /// Pushes registry[name] (package's tables: "_LOADED", "_PRELOAD").
    func pushRegistryTable(_ name: String) {
        LuaStack.push(name, on: main)
        lua_rawget(main, LuaStack.registry)
    }

    /// Runs a chunk of the built-in library on the main thread, in protected mode (start-up code
    /// that never suspends). Returns an error message on failure.
    func runBuiltin(_ module: String) -> String? {
        guard let (chunkName, source) = BuiltinLibrary.source(of: module) else { return "no built-in module '\(module)'" }
        var status = LuaChunk.load(source, named: chunkName, on: main)
        if status == LUA_OK { status = ccm_pcall(main, 0, 0, 0) }
        guard status == LUA_OK else {
            defer { ccm_pop(main, 1) }
            return LuaStack.describe(at: -1, on: main)
        }
        return nil
    }
}

/// A Lua module written in Swift: a table of named functions.
public struct LuaModule {
    public let name: String
    var functions: [(String, LuaFunction)] = []

    public init(_ name: String) { self.name = name }

    public mutating func function(_ name: String, _ body: @escaping LuaFunction) {
        functions.append((name, body))
    }
}

/// Loading source text (never raises; syntax errors come back as a status and a message).
enum LuaChunk {
    static func load(_ source: String, named chunkName: String, on L: LuaState) -> Int32 {
        var text = source
        return text.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                luaL_loadbufferx(L, $0.baseAddress, $0.count, chunkName, "t")
            }
        }
    }
}
