import Core

/// `ccm.http.native`: one function, `request{...}`, over Core's `HTTPClient`. The Lua module
/// `ccm.http` (lua/ccm/http.lua) adds get/post, JSON and argument checks.
enum HTTPModule {
    static var module: LuaModule {
        var module = LuaModule("ccm.http.native")
        module.function("request", request)
        module.function("connections_opened") { ctx in
            ctx.push(HTTPClient.shared.connectionsOpened)
            return 1
        }
        return module
    }

    /// request{method =, url =, headers = {name = value}, body =, timeout =, unix_socket =}
    /// -> {status =, reason =, headers = {lower-case name = value}, body =}. The coroutine is
    /// suspended meanwhile, so `parallel` branches overlap their requests.
    static func request(_ ctx: LuaCallContext) throws -> LuaReturn {
        guard let options = try ctx.options(1) else { throw LuaArgumentError(1, expected: "table") }
        guard let url = try options.string("url") else { throw LuaArgumentError(1, detail: "field 'url': string expected, got nil") }
        var request = HTTPClient.Request(method: try options.string("method") ?? "GET", url: url)
        request.headers = (try options.stringMap("headers") ?? [:]).sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        request.body = try options.bytes("body")
        request.timeout = try options.number("timeout") ?? Defaults.httpTimeout
        guard request.timeout > 0 else { throw LuaArgumentError(1, detail: "field 'timeout': must be > 0") }
        request.unixSocket = try options.string("unix_socket")
        let client = HTTPClient.shared, sent = request
        return ctx.suspend({ try await client.execute(sent) }, then: { ctx, response in
            var headers: [String: LuaValue] = [:]
            for (name, value) in response.headers {
                let key = name.lowercased()
                // Repeated headers read as one, comma-joined (RFC 9110 5.3).
                if case .string(let earlier)? = headers[key] { headers[key] = .string(earlier + ", " + value) } else { headers[key] = .string(value) }
            }
            ctx.push(.table(["status": .integer(response.status), "reason": .string(response.reason),
                             "headers": .table(headers), "body": .bytes(response.body)]))
            return 1
        })
    }
}

extension HTTPClient.Failure: LuaErrorConvertible {
    public var luaError: LuaError { LuaError(kind: "http", message) }
}
