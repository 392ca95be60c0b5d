import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// HTTP/1.1 for scripts (`ccm.http`), over SwiftNIO: one event loop thread, started on first use,
/// and a pool of kept-alive connections per host (or unix socket), so a workload of thousands of
/// requests opens a handful of connections. No TLS: nodes are reached on the cluster's own network.
public final class HTTPClient: Sendable {
    /// One per process, made on first use: nothing starts before a script sends a request.
    public static let shared = HTTPClient()

    public struct Request: Sendable {
        public var method: String
        public var url: String
        /// In the order given; a `host` or `content-length` here replaces the one the client sets.
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]?
        /// Seconds for the whole exchange: connecting, sending and the complete response.
        public var timeout: Double
        /// Reaches the server through this unix socket instead of the URL's host (the engines' API).
        public var unixSocket: String?
        public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
                    timeout: Double = Defaults.httpTimeout, unixSocket: String? = nil) {
            self.method = method; self.url = url; self.headers = headers; self.body = body; self.timeout = timeout
            self.unixSocket = unixSocket
        }

        /// Sending it twice has the effect of sending it once (RFC 9110, 9.2.2).
        var isIdempotent: Bool {
            ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"].contains(method.uppercased())
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var reason: String
        /// As received, in order (names as the server wrote them).
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
    }

    /// A transport failure: the exchange did not complete (a non-2xx status is not one).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Reason: String, Sendable { case badURL, refused, reset, timeout, closed, unreachable, other }
        public var reason: Reason
        public var message: String
        public var description: String { message }
    }

    /// Idle connections by destination ("host:port" or "unix:/path"), most recent last.
    private let idle = Mutex<[String: [any Channel]]>([:])
    /// Counts connections opened, for tests and benchmarks.
    private let opened = Atomic<Int>(0)
    public var connectionsOpened: Int { opened.load(ordering: .relaxed) }
    /// Beyond this many idle connections to one destination, a finished one is closed.
    static let maxIdlePerDestination = 64

    public init() {}

    public func execute(_ request: Request) async throws -> Response {
        let target = try Target(request)
        let deadline = NIODeadline.now() + .nanoseconds(Int64(max(0.001, request.timeout) * 1e9))
        // A kept-alive connection the server closed meanwhile fails before any answer. Whether the
        // server saw the request is unknown, so it is sent again on a new connection only when
        // repeating it is harmless: a workload must never see one write applied twice.
        if let channel = takeIdle(target.key) {
            do { return try await exchange(request, target, on: channel, deadline: deadline) } catch let failure as Failure
                where (failure.reason == .closed || failure.reason == .reset) && request.isIdempotent {}
        }
        let channel = try await connect(target, request: request, deadline: deadline)
        return try await exchange(request, target, on: channel, deadline: deadline)
    }

    // MARK: Connections

    private func takeIdle(_ key: String) -> (any Channel)? {
        idle.withLock { pool in
            while let channel = pool[key]?.popLast() {
                if channel.isActive { return channel }
            }
            return nil
        }
    }

    private func giveBack(_ channel: any Channel, key: String) {
        let kept = idle.withLock { pool -> Bool in
            guard pool[key, default: []].count < Self.maxIdlePerDestination else { return false }
            pool[key, default: []].append(channel)
            return true
        }
        if !kept { channel.close(promise: nil) }
    }

    private func connect(_ target: Target, request: Request, deadline: NIODeadline) async throws -> any Channel {
        let remaining = deadline - .now()
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(remaining > .zero ? remaining : .milliseconds(1))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)   // socketOption would mean SOL_SOCKET: SO_DEBUG, root only
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ExchangeHandler())
                }
            }
        do {
            let channel: any Channel
            if let path = request.unixSocket {
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            } else {
                channel = try await bootstrap.connect(host: target.host, port: target.port).get()
            }
            opened.add(1, ordering: .relaxed)
            return channel
        } catch {
            throw Self.failure(error, request: request, during: "connecting")
        }
    }

    private func exchange(_ request: Request, _ target: Target, on channel: any Channel,
                          deadline: NIODeadline) async throws -> Response {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method.uppercased()), uri: target.path)
        let given = Set(request.headers.map { $0.name.lowercased() })
        if !given.contains("host") { head.headers.add(name: "Host", value: target.hostHeader) }
        for (name, value) in request.headers { head.headers.add(name: name, value: value) }
        let body = request.body ?? []
        if !given.contains("content-length") && (!body.isEmpty || !["GET", "HEAD"].contains(head.method.rawValue)) {
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        let promise = channel.eventLoop.makePromise(of: Response.self)
        let timeout = channel.eventLoop.scheduleTask(deadline: deadline) {
            promise.fail(Failure(reason: .timeout, message: "\(request.method) \(request.url): no complete answer within \(Self.seconds(request.timeout)) s"))
            channel.close(promise: nil)
        }
        channel.writeAndFlush(Exchange(head: head, body: body.isEmpty ? nil : ByteBuffer(bytes: body), promise: promise), promise: nil)
        do {
            let response = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(CancellationError())
                channel.close(promise: nil)
            }
            timeout.cancel()
            let closes = response.headers.contains { $0.name.lowercased() == "connection" && $0.value.lowercased().contains("close") }
            if closes || !channel.isActive { channel.close(promise: nil) } else { giveBack(channel, key: target.key) }
            return response
        } catch {
            timeout.cancel()
            channel.close(promise: nil)
            if error is CancellationError { throw error }
            throw Self.failure(error, request: request, during: "waiting for the answer")
        }
    }

    // MARK: Errors

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// NIO's and the system's errors in words a script writer acts on.
    static func failure(_ error: any Error, request: Request, during: String) -> Failure {
        if let failure = error as? Failure { return failure }
        let what = "\(request.method) \(request.url)" + (request.unixSocket.map { " (through \($0))" } ?? "")
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout:
                return Failure(reason: .timeout, message: "\(what): could not connect within \(seconds(request.timeout)) s")
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed:
                return Failure(reason: .closed, message: "\(what): the server closed the connection while \(during)")
            default: break
            }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return Failure(reason: .refused, message: "\(what): connection refused (is the server listening on that port?)")
            case ECONNRESET, EPIPE: return Failure(reason: .reset, message: "\(what): connection reset by the server while \(during)")
            case ENOENT: return Failure(reason: .refused, message: "\(what): no such socket")
            case EHOSTUNREACH, ENETUNREACH: return Failure(reason: .unreachable, message: "\(what): host unreachable")
            default: break
            }
        }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return failure(first.error, request: request, during: during) }
            if let dns = error.dnsAAAAError ?? error.dnsAError {
                return Failure(reason: .unreachable, message: "\(what): cannot resolve '\(error.host)' (\(dns))")
            }
            return Failure(reason: .unreachable, message: "\(what): cannot connect to \(error.host):\(error.port)")
        }
        if error is HTTPParserError {
            return Failure(reason: .other, message: "\(what): the answer is not valid HTTP/1.1 (\(error))")
        }
        return Failure(reason: .other, message: "\(what): \(error)")
    }
}

/// Where a request goes, read from its URL.
private struct Target {
    var host: String
    var port: Int
    /// Path and query, as the request line takes them.
    var path: String
    var hostHeader: String
    /// Which pool of connections serves it.
    var key: String

    init(_ request: HTTPClient.Request) throws {
        func bad(_ why: String) -> HTTPClient.Failure {
            HTTPClient.Failure(reason: .badURL, message: "bad URL '\(request.url)': \(why) (expected http://HOST:PORT/PATH)")
        }
        guard let url = URLComponents(string: request.url) else { throw bad("not a URL") }
        guard let scheme = url.scheme?.lowercased() else { throw bad("no scheme") }
        guard scheme == "http" else {
            throw bad(scheme == "https" ? "https is not supported (nodes are reached on the cluster's own network)" : "scheme '\(scheme)' is not http")
        }
        var host = url.host ?? ""
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty && request.unixSocket == nil { throw bad("no host") }
        self.host = host
        self.port = url.port ?? 80
        guard (1...65535).contains(port) else { throw bad("port \(port) is out of range") }
        var path = url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath
        if let query = url.percentEncodedQuery { path += "?" + query }
        self.path = path
        self.hostHeader = url.port == nil ? NodeEndpoints.bracketed(host) : NodeEndpoints.join(host, port)
        self.key = request.unixSocket.map { "unix:" + $0 } ?? NodeEndpoints.join(host, port)
    }
}

/// A request and where its answer goes: written into the pipeline, answered by `ExchangeHandler`.
private struct Exchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var promise: EventLoopPromise<HTTPClient.Response>
}

/// One exchange at a time per connection: sends the request, collects the response.
private final class ExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    private var pending: EventLoopPromise<HTTPClient.Response>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        pending = exchange.promise
        head = nil
        body.clear()
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let payload = exchange.body { context.write(wrapOutboundOut(.body(.byteBuffer(payload))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let received):
            head = received
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head, let promise = pending else { return }
            pending = nil
            self.head = nil
            let bytes = body.readBytes(length: body.readableBytes) ?? []
            body.clear()
            promise.succeed(HTTPClient.Response(status: Int(head.status.code), reason: head.status.reasonPhrase,
                                                headers: head.headers.map { ($0.name, $0.value) }, body: bytes))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.fail(ChannelError.eof)
        pending = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pending?.fail(error)
        pending = nil
        context.close(promise: nil)
    }
}
