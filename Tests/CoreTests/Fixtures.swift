import Foundation
import Core

/// Real `docker`/`podman` output captured on the project machine by Fixtures/capture.sh.
enum Fixtures {
    static let directory: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func bytes(_ engine: Engine, _ name: String) throws -> [UInt8] {
        try bytes("\(engine.rawValue)-\(name)")
    }

    /// A failed command: errors/ENGINE-CASE.txt holds its exit code, command, stderr and stdout.
    struct Failure {
        var exitCode: Int32
        var command: [String]
        var stderr: String
        var stdout: String
    }

    static func failure(_ engine: Engine, _ name: String) throws -> Failure {
        let text = String(decoding: try bytes("errors/\(engine.rawValue)-\(name).txt"), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        let exit = Int32(lines.popFirst()!.dropFirst("exit: ".count))!
        let command = lines.popFirst()!.dropFirst("command: ".count).split(separator: " ").map(String.init)
        _ = lines.popFirst()  // --- stderr
        var stderr: [Substring] = []
        while let line = lines.popFirst(), line != "--- stdout" { stderr.append(line) }
        return Failure(exitCode: exit, command: command, stderr: stderr.joined(separator: "\n"),
                       stdout: lines.joined(separator: "\n"))
    }
}
