import Foundation
import Testing

/// `http` and `tcp` work for an ordinary user, as rootless Podman's users run ccm-lua. (Asking
/// NIO for TCP_NODELAY at the socket level set SO_DEBUG instead, which only root may.)
@Suite struct OrdinaryUserClientTests {
    /// A listener on 127.0.0.1 that answers every connection with one small HTTP response.
    final class OneLineServer: Sendable {
        let socket: Int32
        let port: Int

        init() throws {
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            try #require(bound, "could not listen on 127.0.0.1: errno \(errno)")
            socket = fd
            port = Int(UInt16(bigEndian: address.sin_port))
            Thread.detachNewThread { [fd] in
                while case let client = accept(fd, nil, nil), client >= 0 {
                    var buffer = [UInt8](repeating: 0, count: 4096), seen = [UInt8]()
                    while !seen.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) {
                        let n = read(client, &buffer, buffer.count)
                        if n <= 0 { break }
                        seen += buffer[..<n]
                    }
                    let reply = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".utf8)
                    _ = reply.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                    close(client)
                }
            }
        }

        deinit { shutdown(socket, Int32(SHUT_RDWR)); close(socket) }
    }

    @Test func anOrdinaryUserReachesALocalPortWithHTTPAndTCP() throws {
        let server = try OneLineServer()
        let script = """
            print("http " .. http.get("http://127.0.0.1:\(server.port)/", {timeout = 10}).body)
            local conn <close> = tcp.connect("127.0.0.1:\(server.port)", {timeout = 10})
            conn:send("GET / HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n")
            print("tcp " .. conn:receive("l"))
            """
        let home = CLI.scratchPath("nobody")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let process = Process()
        // As root (the unit-test runs), become nobody; an ordinary user already is one.
        if geteuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", CLI.binary, "-e", script]
            #expect(chown(home.path, 65534, 65534) == 0)
        } else {
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = ["-e", script]
        }
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": home.path, "CCM_LUA_HOME": home.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "stderr:\n\(stderr)")
        #expect(stdout == "http ok\ntcp HTTP/1.1 200 OK\n", "stdout:\n\(stdout)\nstderr:\n\(stderr)")
    }
}
