import Foundation
import NIOCore
import NIOPosix

/// A plain TCP connection for scripts (`ccm.tcp`: Redis, memcached, line protocols), on the same
/// event loop as `HTTPClient`. Bytes that arrive are buffered until a `receive` asks for them.
public final class TCPConnection: Sendable {
    /// A failure of the connection: what happened, in words a script writer acts on.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Reason: String, Sendable { case badAddress, refused, reset, timeout, closed, unreachable, other }
        public var reason: Reason
        public var message: String
        public var description: String { message }
    }

    /// What `receive` waits for.
    public enum Want: Sendable, Equatable {
        /// A line, returned without its "\n" (and without a "\r" before it).
        case line
        /// Exactly this many bytes.
        case bytes(Int)
    }

    public let peer: String
    private let channel: any Channel
    private let reader: NIOLoopBound<Reader>

    private init(peer: String, channel: any Channel, reader: NIOLoopBound<Reader>) {
        self.peer = peer; self.channel = channel; self.reader = reader
    }

    deinit { channel.close(promise: nil) }

    /// Connects to "host:port" ("[::1]:6379" for an IPv6 address).
    public static func connect(_ hostPort: String, timeout: Double = Defaults.tcpTimeout) async throws -> TCPConnection {
        let (host, port) = try split(hostPort)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(Int64(max(0.001, timeout) * 1e9)))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)   // socketOption would mean SOL_SOCKET: SO_DEBUG, root only
            .channelOption(.allowRemoteHalfClosure, value: true)
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            let reader = try await channel.eventLoop.submit {
                let reader = Reader()
                try channel.pipeline.syncOperations.addHandler(reader)
                return NIOLoopBound(reader, eventLoop: channel.eventLoop)
            }.get()
            return TCPConnection(peer: hostPort, channel: channel, reader: reader)
        } catch {
            throw failure(error, peer: hostPort, during: "connecting", timeout: timeout)
        }
    }

    public func send(_ bytes: [UInt8], timeout: Double = Defaults.tcpTimeout) async throws {
        let write = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: write)
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(max(0.001, timeout) * 1e9))) { [channel] in
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do { try await write.futureResult.get() } catch {
            throw Self.failure(error, peer: peer, during: "sending", timeout: timeout)
        }
    }

    public func receive(_ want: Want, timeout: Double = Defaults.tcpTimeout) async throws -> [UInt8] {
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        let reader = self.reader, peer = self.peer
        channel.eventLoop.execute {
            reader.value.wait(for: want, promise: promise)
        }
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(max(0.001, timeout) * 1e9))) {
            reader.value.expire(promise, Failure(reason: .timeout, message: "\(peer): \(Self.describe(want)) did not arrive within \(HTTPClient.seconds(timeout)) s"))
        }
        defer { timer.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(CancellationError())
            }
        } catch let error as Failure {
            throw error.message.hasPrefix(peer) ? error : Failure(reason: error.reason, message: "\(peer): \(error.message)")
        } catch is CancellationError { throw CancellationError() } catch {
            throw Self.failure(error, peer: peer, during: "receiving", timeout: timeout)
        }
    }

    /// Closing twice is no error.
    public func close() async {
        try? await channel.close().get()
    }

    public var isOpen: Bool { channel.isActive }

    static func describe(_ want: Want) -> String {
        switch want {
        case .line: "a line"
        case .bytes(let count): "\(count) bytes"
        }
    }

    static func split(_ hostPort: String) throws -> (String, Int) {
        let bad = Failure(reason: .badAddress, message: "bad address '\(hostPort)': expected \"host:port\" (as n:endpoint(port) returns it)")
        guard let colon = hostPort.lastIndex(of: ":"), let port = Int(hostPort[hostPort.index(after: colon)...]),
              (1...65535).contains(port) else { throw bad }
        var host = String(hostPort[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw bad }
        return (host, port)
    }

    static func failure(_ error: any Error, peer: String, during: String, timeout: Double) -> Failure {
        if let failure = error as? Failure { return failure }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout:
                return Failure(reason: .timeout, message: "\(peer): could not connect within \(HTTPClient.seconds(timeout)) s")
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed:
                return Failure(reason: .closed, message: "\(peer): the connection is closed (while \(during))")
            default: break
            }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return Failure(reason: .refused, message: "\(peer): connection refused (is the server listening on that port?)")
            case ECONNRESET, EPIPE: return Failure(reason: .reset, message: "\(peer): connection reset by the peer while \(during)")
            case EHOSTUNREACH, ENETUNREACH: return Failure(reason: .unreachable, message: "\(peer): host unreachable")
            default: break
            }
        }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return failure(first.error, peer: peer, during: during, timeout: timeout) }
            return Failure(reason: .unreachable, message: "\(peer): cannot resolve or reach '\(error.host)'")
        }
        return Failure(reason: .other, message: "\(peer): \(error) (while \(during))")
    }
}

/// Buffers what arrives and answers one waiting `receive` at a time. Lives on the event loop.
private final class Reader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var buffer = ByteBuffer()
    private var waiting: (want: TCPConnection.Want, promise: EventLoopPromise<[UInt8]>)?
    /// The peer closed its side (or the connection broke): what is buffered can still be read.
    private var ended: TCPConnection.Failure?

    func wait(for want: TCPConnection.Want, promise: EventLoopPromise<[UInt8]>) {
        if let earlier = waiting {
            earlier.promise.fail(TCPConnection.Failure(reason: .other, message: "a receive was still waiting on this connection"))
        }
        waiting = (want, promise)
        serve()
    }

    func expire(_ promise: EventLoopPromise<[UInt8]>, _ failure: TCPConnection.Failure) {
        guard let current = waiting, current.promise.futureResult === promise.futureResult else { return }
        waiting = nil
        promise.fail(failure)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        serve()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { end(nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, error.errnoCode == ECONNRESET {
            end(TCPConnection.Failure(reason: .reset, message: "connection reset by the peer"))
        } else {
            end(TCPConnection.Failure(reason: .other, message: "\(error)"))
        }
        context.close(promise: nil)
    }

    private func end(_ failure: TCPConnection.Failure?) {
        if ended == nil { ended = failure ?? TCPConnection.Failure(reason: .closed, message: "the peer closed the connection") }
        serve()
    }

    private func serve() {
        guard let (want, promise) = waiting else { return }
        switch want {
        case .line:
            if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = newline - buffer.readerIndex
                var line = buffer.readBytes(length: length) ?? []
                buffer.moveReaderIndex(forwardBy: 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                waiting = nil
                promise.succeed(line)
                return
            }
        case .bytes(let count):
            if buffer.readableBytes >= count {
                waiting = nil
                promise.succeed(buffer.readBytes(length: count) ?? [])
                return
            }
        }
        if let ended {
            waiting = nil
            let partial = buffer.readableBytes > 0 ? " (\(buffer.readableBytes) bytes of an incomplete answer were left)" : ""
            promise.fail(TCPConnection.Failure(reason: ended.reason, message: ended.message + " before " + TCPConnection.describe(want) + " arrived" + partial))
        }
        if buffer.readerIndex > 65536 { buffer.discardReadBytes() }
    }
}
