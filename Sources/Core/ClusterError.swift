/// A failure of the cluster model itself (as opposed to the engine refusing a command, which is a
/// `RuntimeError`). `kind` is what scripts branch on; the words are the ones the Lua API documents.
public struct ClusterError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case usage        // the caller asked for something impossible: bad name, name taken, no such node
        case config       // a spec or profile value is malformed
        case timeout      // a wait ran out; `lastLines` shows what the node said meanwhile
        case exited       // a node's container stopped while something waited for it: no use waiting on
        case notFound     // no cluster of that name in the state directory
        case state        // the state directory is unreadable or inconsistent
    }

    public var kind: Kind
    public var message: String
    public var node: String?
    /// The last log lines seen, for timeouts of log waits: often the reason is right there.
    public var lastLines: [String]
    /// The exit code of a node that `.exited`.
    public var exitCode: Int32?

    public init(_ kind: Kind, _ message: String, node: String? = nil, lastLines: [String] = [], exitCode: Int32? = nil) {
        self.kind = kind; self.message = message; self.node = node; self.lastLines = lastLines; self.exitCode = exitCode
    }

    public var description: String {
        guard !lastLines.isEmpty else { return message }
        return message + "\n  last lines:\n" + lastLines.map { "    " + $0 }.joined(separator: "\n")
    }
}
