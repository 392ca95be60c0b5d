import Foundation

/// A stand-in for an engine's API socket, run by Python 3 for one test: it answers requests with
/// canned responses (recorded from Docker and Podman), takes an exec start's connection over as
/// the engines do, and writes every request it received to a log the test reads.
final class FakeEngineSocket: @unchecked Sendable {
    struct Reply: Encodable {
        var method: String
        /// Answers the first request whose path contains this.
        var path: String
        var status: Int = 200
        var headers: [String: String] = ["Content-Type": "application/json"]
        var body: String = ""
        /// An exec start: 101, then the client's stdin echoed as a stdout frame, then `frames`.
        var upgrade = false
        /// Base64 of the bytes sent after the upgrade.
        var frames: String = ""
    }

    let folder: URL
    var socketPath: String { folder.appendingPathComponent("engine.sock").path }
    private let process = Process()
    private let lifeline = Pipe()

    init(_ replies: [Reply]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-fake-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try JSONEncoder().encode(replies).write(to: folder.appendingPathComponent("replies.json"))
        try Self.source.write(to: folder.appendingPathComponent("engine.py"), atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", folder.appendingPathComponent("engine.py").path, folder.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = lifeline
        try process.run()
        // It prints "ready" once it listens.
        _ = out.fileHandleForReading.availableData
    }

    /// Every request received: "METHOD PATH BODY", one a line.
    var requests: [String] {
        (try? String(contentsOf: folder.appendingPathComponent("requests.log"), encoding: .utf8))?
            .split(separator: "\n").map(String.init) ?? []
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? lifeline.fileHandleForWriting.close()
        try? FileManager.default.removeItem(at: folder)
    }

    static let source = #"""
import base64, json, os, socket, struct, sys, threading
folder = sys.argv[1]
replies = json.load(open(os.path.join(folder, "replies.json")))
log = open(os.path.join(folder, "requests.log"), "a")
threading.Thread(target=lambda: (sys.stdin.buffer.read(), os._exit(0)), daemon=True).start()

def serve(conn):
    data = b""
    while True:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                conn.close(); return
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        method, path = lines[0].split(" ")[:2]
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":")[1])
        while len(data) < length:
            data += conn.recv(65536)
        body, data = data[:length], data[length:]
        log.write(f"{method} {path} {body.decode()}\n"); log.flush()
        reply = next((r for r in replies if r["method"] == method and r["path"] in path), None)
        if reply is None:
            reply = {"status": 404, "headers": {"Content-Type": "application/json"}, "body": '{"message":"no fake reply"}', "upgrade": False}
        if reply["upgrade"]:
            conn.sendall(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
            stdin = data
            if json.loads(body or b"{}").get("Detach") is False and b'"AttachStdin":true' in open(os.path.join(folder, "requests.log"), "rb").read():
                while True:
                    chunk = conn.recv(65536)
                    if not chunk: break
                    stdin += chunk
            if stdin:
                conn.sendall(struct.pack(">BxxxL", 1, len(stdin)) + stdin)
            conn.sendall(base64.b64decode(reply["frames"]))
            conn.close(); return
        payload = reply["body"].encode()
        text = f"HTTP/1.1 {reply['status']} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in reply["headers"].items())
        conn.sendall(text.encode() + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)

server = socket.socket(socket.AF_UNIX)
server.bind(os.path.join(folder, "engine.sock"))
server.listen(16)
print("ready", flush=True)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""#
}
