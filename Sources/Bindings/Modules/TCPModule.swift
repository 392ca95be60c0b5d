import Core

/// `ccm.tcp.native`: `connect(host_port, timeout)` -> a `ccm.TCPConnection` whose methods suspend
/// the calling coroutine. The Lua module `ccm.tcp` (lua/ccm/tcp.lua) checks arguments.
enum TCPModule {
    static var module: LuaModule {
        var module = LuaModule("ccm.tcp.native")
        module.function("connect") { ctx in
            let address = try ctx.string(1)
            let timeout = try ctx.optionalNumber(2) ?? Defaults.tcpTimeout
            guard timeout > 0 else { throw LuaArgumentError(2, detail: "timeout must be > 0") }
            return ctx.suspend({ try await TCPConnection.connect(address, timeout: timeout) }, then: { ctx, connection in
                ctx.push(TCPHandle(connection))
                return 1
            })
        }
        return module
    }
}

/// A connection as Lua holds it; `__gc`/`__close` release it, and the connection closes with it.
final class TCPHandle: LuaObject {
    static let luaTypeName = "ccm.TCPConnection"
    let connection: TCPConnection

    init(_ connection: TCPConnection) { self.connection = connection }

    var luaDescription: String { connection.peer + (connection.isOpen ? "" : " (closed)") }

    static func declareMembers(_ m: inout LuaMembers<TCPHandle>) {
        m.field("peer") { h, ctx in ctx.push(h.connection.peer) }

        // send(bytes, timeout)
        m.method("send") { h, ctx in
            let bytes = try ctx.bytes(2)
            let timeout = try ctx.optionalNumber(3) ?? Defaults.tcpTimeout
            let connection = h.connection
            return ctx.suspend { try await connection.send(bytes, timeout: timeout) }
        }

        // receive("l" | n, timeout) -> string
        m.method("receive") { h, ctx in
            let want: TCPConnection.Want
            if ctx.type(at: 2) == .number {
                let count = try ctx.integer(2)
                guard count >= 0 else { throw LuaArgumentError(2, detail: "a byte count must be >= 0") }
                want = .bytes(count)
            } else {
                let pattern = try ctx.optionalString(2) ?? "l"
                guard pattern == "l" || pattern == "*l" else { throw LuaArgumentError(2, detail: "\"l\" (a line) or a byte count expected, got \"\(pattern)\"") }
                want = .line
            }
            let timeout = try ctx.optionalNumber(3) ?? Defaults.tcpTimeout
            let connection = h.connection
            return ctx.suspend({ try await connection.receive(want, timeout: timeout) }, then: { ctx, bytes in
                ctx.push(bytes: bytes)
                return 1
            })
        }

        m.method("close") { h, ctx in
            let connection = h.connection
            return ctx.suspend { await connection.close() }
        }
    }
}

extension TCPConnection.Failure: LuaErrorConvertible {
    public var luaError: LuaError { LuaError(kind: "tcp", message) }
}
