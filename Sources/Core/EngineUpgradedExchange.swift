import Foundation
import NIOCore
import NIOPosix

/// One request to an engine's API whose answer takes the connection over: Docker's (and Podman's
/// compatible) `POST /exec/ID/start` answers `101 UPGRADED` and then sends the program's framed
/// output until it ends, reading the program's stdin from the same connection. `HTTPClient` keeps
/// connections for many requests and wants a framed body, so this exchange has its own
/// connection, which it closes when done.
///
/// stdin is sent only after the engine's answer arrived: the engine takes the connection over
/// from its HTTP server, and bytes that arrived with the request would stay in that server's
/// buffer and be lost. Then the connection's sending half is closed, which the program reads as
/// the end of its input.
struct EngineUpgradedExchange {
    struct Head: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
    }

    enum Failure: Error, Sendable {
        /// Nothing was sent: the socket did not accept the connection.
        case connect(any Error)
        /// The answer did not end by the deadline.
        case timedOut
        /// More than `limit` bytes came.
        case tooLarge(limit: Int)
        case transport(any Error)
        case malformed(String)
    }

    var socketPath: String
    /// The request line and headers, without the final empty line; Content-Length is added.
    var method: String
    var path: String
    var body: [UInt8]
    var stdin: [UInt8]?
    var limit: Int = ProcessRunner.outputLimit
    var deadline: NIODeadline?

    /// The head and, for an upgraded answer, every byte after it until the engine closed the
    /// connection; for any other answer, its body.
    func run() async throws -> (head: Head, body: [UInt8]) {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let head = loop.makePromise(of: Head.self), end = loop.makePromise(of: [UInt8].self)
        let handler = Collector(limit: limit, head: head, end: end)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
                }
                .connect(unixDomainSocketPath: socketPath).get()
        } catch {
            head.fail(error); end.fail(error)
            throw Failure.connect(error)
        }
        let timer = deadline.map { deadline in
            channel.eventLoop.scheduleTask(deadline: deadline) {
                handler.failAll(Failure.timedOut, channel: channel)
            }
        }
        defer {
            timer?.cancel()
            channel.close(promise: nil)
        }
        return try await withTaskCancellationHandler {
            var text = "\(method) \(path) HTTP/1.1\r\nHost: engine\r\nUser-Agent: ccm-lua\r\n"
            text += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
            text += "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
            var buffer = channel.allocator.buffer(capacity: text.utf8.count + body.count)
            buffer.writeString(text)
            buffer.writeBytes(body)
            do { try await channel.writeAndFlush(buffer) } catch { throw Failure.transport(error) }
            let answer = try await head.futureResult.get()
            if answer.status == 101 || answer.status == 200, let stdin {
                if !stdin.isEmpty {
                    do { try await channel.writeAndFlush(channel.allocator.buffer(bytes: stdin)) } catch { throw Failure.transport(error) }
                }
                try? await channel.close(mode: .output)
            }
            return (answer, try await end.futureResult.get())
        } onCancel: {
            handler.failAll(CancellationError(), channel: channel)
        }
    }

    /// Reads the answer's head, then its body: until the connection ends for an upgraded (or
    /// unframed) answer, by Content-Length or chunks otherwise.
    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        // Touched only on the channel's event loop.
        private var received: [UInt8] = []
        private var head: Head?
        private var bodyStart = 0
        private var headP: EventLoopPromise<Head>?
        private var endP: EventLoopPromise<[UInt8]>?
        private let limit: Int

        init(limit: Int, head: EventLoopPromise<Head>, end: EventLoopPromise<[UInt8]>) {
            self.limit = limit; headP = head; endP = end
        }

        func failAll(_ error: any Error, channel: any Channel) {
            channel.eventLoop.execute {
                self.headP?.fail(error); self.headP = nil
                self.endP?.fail(error); self.endP = nil
                channel.close(promise: nil)
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            received.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
            if head == nil {
                guard let end = Self.find([13, 10, 13, 10], in: received) else {
                    if received.count > 64 * 1024 { fail(.malformed("an answer head longer than 64 KiB"), context) }
                    return
                }
                guard let parsed = Self.parseHead(Array(received[..<end])) else {
                    fail(.malformed("not an HTTP answer: \(String(decoding: received.prefix(80), as: UTF8.self))"), context)
                    return
                }
                head = parsed
                bodyStart = end + 4
                headP?.succeed(parsed); headP = nil
            }
            if received.count - bodyStart > limit {
                fail(.tooLarge(limit: limit), context)
                return
            }
            if let body = framedBody() { endP?.succeed(body); endP = nil; context.close(promise: nil) }
        }

        /// The whole body of an answer that did not take the connection over, once it is complete.
        private func framedBody() -> [UInt8]? {
            guard let head, head.status != 101 else { return nil }
            let body = Array(received[bodyStart...])
            if let length = head.header("content-length").flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
                return body.count >= length ? Array(body.prefix(length)) : nil
            }
            if head.header("transfer-encoding")?.lowercased().contains("chunked") == true { return Self.dechunk(body) }
            return nil
        }

        func channelInactive(context: ChannelHandlerContext) {
            if head == nil {
                headP?.fail(Failure.malformed("the engine closed the connection without answering")); headP = nil
            }
            endP?.succeed(Array(received[min(bodyStart, received.count)...])); endP = nil
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            fail(.transport(error), context)
        }

        private func fail(_ failure: Failure, _ context: ChannelHandlerContext) {
            headP?.fail(failure); headP = nil
            endP?.fail(failure); endP = nil
            context.close(promise: nil)
        }

        static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
            guard haystack.count >= needle.count else { return nil }
            for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle {
                return i
            }
            return nil
        }

        static func parseHead(_ bytes: [UInt8]) -> Head? {
            let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
            let status = lines.first?.split(separator: " ")
            guard let status, status.count >= 2, status[0].hasPrefix("HTTP/"), let code = Int(status[1]) else { return nil }
            let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            return Head(status: code, headers: headers)
        }

        /// A chunked body, once its last chunk arrived.
        static func dechunk(_ bytes: [UInt8]) -> [UInt8]? {
            var out: [UInt8] = [], i = 0
            while true {
                guard let lineEnd = find([13, 10], in: Array(bytes[i...])) else { return nil }
                let sizeText = String(decoding: bytes[i..<(i + lineEnd)], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
                i += lineEnd + 2
                if size == 0 { return out }
                guard bytes.count >= i + size + 2 else { return nil }
                out.append(contentsOf: bytes[i..<(i + size)])
                i += size + 2
            }
        }
    }
}
