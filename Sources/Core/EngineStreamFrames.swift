/// Docker's framing of a non-TTY exec or attach stream, which Podman's compatible API also uses:
/// stdout and stderr share one connection, each piece preceded by an 8-byte header
/// `[stream, 0, 0, 0, size (4 bytes, big-endian)]`, where stream is 0 stdin, 1 stdout, 2 stderr.
/// Bytes arrive in whatever pieces the socket delivers: a header or a payload may be split
/// anywhere, so the decoder keeps what it has not used yet.
public struct EngineStreamFrames: Sendable {
    public enum Stream: UInt8, Sendable { case stdin = 0, stdout = 1, stderr = 2 }

    public struct Malformed: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private var pending: [UInt8] = []
    public private(set) var stdout: [UInt8] = []
    public private(set) var stderr: [UInt8] = []

    public init() {}

    /// Adds received bytes; complete frames go to `stdout`/`stderr`.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws where Bytes.Element == UInt8 {
        pending.append(contentsOf: bytes)
        var offset = 0
        while pending.count - offset >= 8 {
            let kind = pending[offset]
            guard let stream = Stream(rawValue: kind), pending[offset + 1] == 0, pending[offset + 2] == 0, pending[offset + 3] == 0 else {
                throw Malformed(description: "the engine's output stream has a bad frame header (byte \(kind) where 0, 1 or 2 belongs)")
            }
            let size = pending[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
            guard pending.count - offset - 8 >= size else { break }
            let payload = pending[(offset + 8)..<(offset + 8 + size)]
            switch stream {
            case .stdout, .stdin: stdout.append(contentsOf: payload)
            case .stderr: stderr.append(contentsOf: payload)
            }
            offset += 8 + size
        }
        if offset > 0 { pending.removeFirst(offset) }
    }

    /// After the stream ended: fails when it stopped in the middle of a frame.
    public func finish() throws {
        guard pending.isEmpty else {
            throw Malformed(description: "the engine's output stream ended in the middle of a frame (\(pending.count) bytes left over)")
        }
    }

    public var byteCount: Int { stdout.count + stderr.count + pending.count }
}
