import ArgumentParser
import Core
import Foundation

/// Terminal output shared by the cluster subcommands: failures as advice on stderr, aligned tables,
/// JSON for scripts.
enum Output {
    /// Prints `error` as "ccm-lua COMMAND: what happened" plus the engine's details and the hint
    /// (RuntimeError and ClusterError carry both), and returns the exit status to throw.
    static func fail(_ command: String, _ error: any Error) -> ExitCode {
        complain(command, "\(error)")
        return ExitCode(1)
    }

    static func fail(_ command: String, _ message: String) -> ExitCode {
        complain(command, message)
        return ExitCode(1)
    }

    /// One message on stderr, prefixed with the subcommand so it reads well inside CI logs.
    static func complain(_ command: String, _ message: String) {
        FileHandle.standardError.write(Data("ccm-lua \(command): \(message)\n".utf8))
    }

    /// Columns padded to the widest cell; the last column is not padded (no trailing blanks).
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// Pretty, key-sorted JSON: stable for diffs and for tests.
    static func json(_ value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Prints and flushes at once: output piped to another program (or a test) arrives line by line.
    static func line(_ text: String) {
        print(text)
        fflush(nil)  // nil: every stream; naming stdout is not concurrency-safe in Swift 6
    }
}
