import Foundation

/// A failure talking to a container engine. It carries what a person needs to act on it: which
/// engine, the exact command line, its exit code and stderr, and a hint saying what to do.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case runtimeNotFound      // no docker/podman client on PATH, or the requested one is missing
        case daemonNotRunning     // the client answers, the engine behind it does not
        case imageNotFound
        case containerNotFound
        case networkNotFound
        case nameConflict
        case invalidArgument      // the engine rejected a value we passed (memory "12zz", bad port)
        case startFailed
        case execFailed           // the exec itself could not run (container stopped, no such binary)
        case removalInProgress    // another process is removing the container right now
        case timeout
        case commandFailed        // anything else the engine refused
    }

    public var kind: Kind
    public var engine: Engine?
    /// The command line as a user could paste it into a shell.
    public var command: [String]
    public var exitCode: Int32?
    public var stderr: String
    /// One sentence on what went wrong, in the engine-neutral words of ccm-lua.
    public var summary: String
    /// What the user can do about it.
    public var hint: String?

    public init(_ kind: Kind, engine: Engine?, summary: String, command: [String] = [], exitCode: Int32? = nil,
                stderr: String = "", hint: String? = nil) {
        self.kind = kind; self.engine = engine; self.summary = summary; self.command = command
        self.exitCode = exitCode; self.stderr = stderr; self.hint = hint
    }

    public var description: String {
        var text = summary
        if !command.isEmpty {
            text += "\n  command: " + command.map(shellQuoted).joined(separator: " ")
        }
        if let exitCode { text += "\n  exit code: \(exitCode)" }
        let err = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        if !err.isEmpty { text += "\n  stderr: " + err.split(separator: "\n").prefix(20).joined(separator: "\n          ") }
        if let hint { text += "\n  hint: " + hint }
        return text
    }
}

/// Quotes an argument for display the way a POSIX shell would read it back.
public func shellQuoted(_ argument: String) -> String {
    let safe = argument.unicodeScalars.allSatisfy {
        CharacterSet.alphanumerics.contains($0) || "-_./:=@,+%".unicodeScalars.contains($0)
    }
    if safe && !argument.isEmpty { return argument }
    return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
