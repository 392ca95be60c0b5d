import Foundation
import Testing

/// What an ordinary user, as rootless Podman's users run ccm-lua, gets where root's path differs.
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

    /// Runs ccm-lua as nobody (from root) or as the ordinary user this is; returns status and output.
    /// No engine is reachable: a Podman started as nobody would leave its pause process behind.
    static func asOrdinaryUser(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let home = CLI.scratchPath("nobody")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let process = Process()
        // As root (the unit-test runs), become nobody; an ordinary user already is one.
        if geteuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", CLI.binary] + arguments
            #expect(chown(home.path, 65534, 65534) == 0)
        } else {
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = arguments
        }
        process.environment = ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": home.path, "CCM_LUA_HOME": home.path,
                               "CCM_LUA_RUNTIME": "/nonexistent/podman"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    /// `doctor` tells an ordinary user whether the kernel has netem, as it tells root: a user
    /// namespace of one's own may add qdiscs to its own network namespace.
    @Test func doctorChecksNetemForAnOrdinaryUserToo() throws {
        let run = try Self.asOrdinaryUser(["doctor", "--no-network-check"])
        let line = run.stdout.split(separator: "\n").first { $0.hasPrefix("faults: ") }.map(String.init) ?? ""
        #expect(line.hasPrefix("faults: netem available") || line.hasPrefix("faults: netem missing"), "stdout:\n\(run.stdout)\nstderr:\n\(run.stderr)")
    }

    /// Asking NIO for TCP_NODELAY at the socket level set SO_DEBUG instead, which only root may.
    @Test func anOrdinaryUserReachesALocalPortWithHTTPAndTCP() throws {
        let server = try OneLineServer()
        let script = """
            print("http " .. http.get("http://127.0.0.1:\(server.port)/", {timeout = 10}).body)
            local conn <close> = tcp.connect("127.0.0.1:\(server.port)", {timeout = 10})
            conn:send("GET / HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n")
            print("tcp " .. conn:receive("l"))
            """
        let run = try Self.asOrdinaryUser(["-e", script])
        #expect(run.status == 0, "stderr:\n\(run.stderr)")
        #expect(run.stdout == "http ok\ntcp HTTP/1.1 200 OK\n", "stdout:\n\(run.stdout)\nstderr:\n\(run.stderr)")
    }
}
