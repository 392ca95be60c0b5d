import Foundation

/// A small server on the loopback address, run by Python 3 for the duration of a test, for the
/// `http` and `tcp` modules to talk to. It prints its port first; `stop()` ends it.
final class LocalServer: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let folder: URL
    /// The server ends when this closes, also when the test process dies.
    private let lifeline = Pipe()

    var address: String { "127.0.0.1:\(port)" }
    /// Where the "unix" kind listens (HTTP over a unix socket, as the engines' API).
    var socketPath: String { folder.appendingPathComponent("http.sock").path }

    init(_ kind: String) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = folder.appendingPathComponent("server.py")
        try Self.source.write(to: script, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, kind, folder.appendingPathComponent("http.sock").path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        process.standardInput = lifeline
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "the test server did not start"])
        }
        self.port = port
    }

    func stop() {
        // SIGKILL: a child of Foundation's Process may have SIGTERM blocked.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? lifeline.fileHandleForWriting.close()
        try? FileManager.default.removeItem(at: folder)
    }

    /// A port nothing listens on (bound, then closed again).
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static let source = #"""
import http.server, json, os, socket, sys, threading, time, urllib.parse

def watch_lifeline():
    sys.stdin.buffer.read()
    os._exit(0)

threading.Thread(target=watch_lifeline, daemon=True).start()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections = 0
    dropped = 0
    lock = threading.Lock()

    def setup(self):
        super().setup()
        with Handler.lock:
            Handler.connections += 1

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json", extra=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path.startswith("/status/"):
            return self.reply(int(url.path.split("/")[2]), "no such thing", "text/plain", [("X-Why", "asked for it")])
        if url.path == "/sleep":
            time.sleep(float(query["s"][0]))
            return self.reply(200, "slept")
        if url.path == "/connections":
            return self.reply(200, str(Handler.connections), "text/plain")
        if url.path == "/drop":
            # Received, then the connection closes with no answer (a server that died mid-request).
            with Handler.lock:
                Handler.dropped += 1
            self.close_connection = True
            return
        if url.path == "/dropped":
            return self.reply(200, str(Handler.dropped), "text/plain")
        self.reply(200, json.dumps({
            "method": self.command, "path": self.path, "body": body.decode(),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "peer": self.client_address[1] if isinstance(self.client_address, tuple) else 0,
        }), extra=[("X-Multi", "a"), ("X-Multi", "b")])

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer

def serve_tcp(conn, state):
    with state["lock"]:
        state["open"] += 1
    try:
        reader = conn.makefile("rb")
        for line in reader:
            command = line.strip().decode()
            if command == "PING":
                conn.sendall(b"+PONG\r\n")
            elif command.startswith("BYTES "):
                conn.sendall(b"x" * int(command[6:]) + b"tail\n")
            elif command == "SPLIT":
                conn.sendall(b"hel")
                time.sleep(0.1)
                conn.sendall(b"lo\nworld\n")
            elif command == "OPEN":
                with state["lock"]:
                    conn.sendall(b"%d\n" % state["open"])
            elif command == "SILENT":
                pass
            elif command == "BYE":
                conn.sendall(b"partial")
                conn.shutdown(socket.SHUT_RDWR)
                break
            else:
                conn.sendall(line)
    except OSError:
        pass
    finally:
        conn.close()
        with state["lock"]:
            state["open"] -= 1

if sys.argv[1] == "unix":
    import socketserver
    class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True
    server = UnixHTTPServer(sys.argv[2], Handler)
    print(0, flush=True)
    server.serve_forever()
elif sys.argv[1] == "http":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()
else:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    state = {"open": 0, "lock": threading.Lock()}
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_tcp, args=(conn, state), daemon=True).start()
"""#
}
