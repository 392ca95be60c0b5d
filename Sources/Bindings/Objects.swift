import CLua
import CLuaShim

/// A Swift object scripts can hold (a Cluster, a Node). The userdata keeps a retained pointer;
/// `__gc` and `__close` release it (whichever comes first; the other does nothing), so a
/// `local c <close> = ...` frees it at the end of the scope.
public protocol LuaObject: AnyObject {
    /// The name scripts see in `tostring` and in type errors ("Cluster expected, got Node").
    static var luaTypeName: String { get }
    /// Declares the methods (`obj:start()`) and read-only fields (`obj.name`) of the type.
    static func declareMembers(_ members: inout LuaMembers<Self>)
    /// Shown by `tostring` after the type name, e.g. the cluster's name.
    var luaDescription: String { get }
}

extension LuaObject {
    public static func declareMembers(_ members: inout LuaMembers<Self>) {}
    public var luaDescription: String { "" }
}

/// The methods and fields of a `LuaObject` type. In a method, argument 1 is the object itself
/// (already checked and passed as `object`); the method's own arguments start at 2.
public struct LuaMembers<Object: LuaObject> {
    public typealias Method = (Object, LuaCallContext) throws -> LuaReturn
    /// Pushes exactly one value.
    public typealias Field = (Object, LuaCallContext) -> Void

    var methods: [(name: String, body: Method)] = []
    var fields: [String: Field] = [:]

    public mutating func method(_ name: String, _ body: @escaping Method) { methods.append((name, body)) }
    public mutating func field(_ name: String, _ read: @escaping Field) { fields[name] = read }
}

/// Creates each `LuaObject` type's metatable once per VM and moves objects in and out of userdata.
final class ObjectTypes {
    unowned(unsafe) let vm: LuaVM
    private var registered: Set<ObjectIdentifier> = []

    init(vm: LuaVM) { self.vm = vm }

    /// A userdata holds one optional pointer: nil once released.
    private typealias Slot = UnsafeMutableRawPointer?

    func push<T: LuaObject>(_ object: T, on L: LuaState) {
        lua_checkstack(L, 4)
        let block = ccm_newuserdata(L, MemoryLayout<Slot>.size)!
        block.assumingMemoryBound(to: Slot.self).initialize(to: Unmanaged.passRetained(object).toOpaque())
        pushMetatable(for: T.self, on: L)
        lua_setmetatable(L, -2)
    }

    func object<T: LuaObject>(at index: Int32, in L: LuaState, as type: T.Type) throws -> T {
        registerIfNeeded(T.self, on: L)
        guard let block = luaL_testudata(L, index, T.luaTypeName) else {
            throw LuaArgumentError(index, expected: T.luaTypeName)
        }
        guard let pointer = block.assumingMemoryBound(to: Slot.self).pointee else {
            throw LuaError(kind: "usage", "attempt to use a closed \(T.luaTypeName)")
        }
        return Unmanaged<T>.fromOpaque(pointer).takeUnretainedValue()
    }

    private func pushMetatable<T: LuaObject>(for type: T.Type, on L: LuaState) {
        registerIfNeeded(type, on: L)
        LuaStack.push(T.luaTypeName, on: L)
        lua_rawget(L, LuaStack.registry)
    }

    private func registerIfNeeded<T: LuaObject>(_ type: T.Type, on L: LuaState) {
        guard registered.insert(ObjectIdentifier(type)).inserted else { return }
        var members = LuaMembers<T>()
        T.declareMembers(&members)
        let name = T.luaTypeName
        lua_checkstack(L, 6)

        luaL_newmetatable(L, name)  // registry[name] = mt, with mt.__name = name
        lua_pushboolean(L, 0)
        LuaStack.setField("__metatable", on: L)  // getmetatable() gives false; setmetatable() refuses

        let release: LuaFunction = { ctx in
            if let block = lua_touserdata(ctx.state, 1), luaL_testudata(ctx.state, 1, name) != nil {
                let slot = block.assumingMemoryBound(to: Slot.self)
                if let pointer = slot.pointee {
                    slot.pointee = nil
                    Unmanaged<T>.fromOpaque(pointer).release()
                }
            }
            return 0
        }
        vm.pushFunction("__gc", release, on: L)
        LuaStack.setField("__gc", on: L)
        vm.pushFunction("__close", release, on: L)
        LuaStack.setField("__close", on: L)

        vm.pushFunction("__tostring", { ctx in
            let slot = lua_touserdata(ctx.state, 1)?.assumingMemoryBound(to: Slot.self)
            if let pointer = slot?.pointee {
                let description = Unmanaged<T>.fromOpaque(pointer).takeUnretainedValue().luaDescription
                ctx.push(description.isEmpty ? name : "\(name): \(description)")
            } else {
                ctx.push("\(name) (closed)")
            }
            return 1
        }, on: L)
        LuaStack.setField("__tostring", on: L)

        // The methods table.
        lua_createtable(L, 0, Int32(members.methods.count))
        for (methodName, body) in members.methods {
            vm.pushFunction(methodName, { [unowned(unsafe) vm] ctx in
                let object = try vm.objects.object(at: 1, in: ctx.state, as: T.self)
                return try body(object, ctx)
            }, on: L)
            LuaStack.setField(methodName, on: L)
        }
        if members.fields.isEmpty {
            LuaStack.setField("__index", on: L)  // methods only: __index is the methods table
        } else {
            // Fields too: __index(obj, key) looks in the methods table (upvalue 2), then the fields.
            let fields = members.fields
            vm.pushFunction("__index", upvalues: 1, { [unowned(unsafe) vm] ctx in
                lua_pushvalue(ctx.state, 2)
                lua_rawget(ctx.state, ccm_upvalueindex(2))
                if ccm_isnil(ctx.state, -1) == 0 { return 1 }
                ccm_pop(ctx.state, 1)
                guard let key = LuaStack.string(at: 2, on: ctx.state), lua_type(ctx.state, 2) == LUA_TSTRING,
                      let read = fields[key] else { return 0 }
                read(try vm.objects.object(at: 1, in: ctx.state, as: T.self), ctx)
                return 1
            }, on: L)
            LuaStack.setField("__index", on: L)
        }
        ccm_pop(L, 1)  // the metatable stays in the registry
    }
}
