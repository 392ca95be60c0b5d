/// String commands run as `sh -c STRING`. Images built on an empty base (upstream etcd since 3.5.7,
/// distroless images) have no shell, and the engine then only says that "sh" was not found, which
/// does not tell the user that the string form of the command was the cause, nor what to do.
public enum MissingShell {
    /// `sh -c SCRIPT ...`, the form string commands take.
    public static func isShellCommand(_ argv: [String]) -> Bool {
        argv.count >= 3 && (argv[0] == "sh" || argv[0] == "/bin/sh") && argv[1] == "-c"
    }

    /// Whether the engine could not start the shell itself (Docker: `exec: "sh": executable file
    /// not found in $PATH`, for an absolute path `stat /bin/sh: no such file or directory`; Podman
    /// says the same through runc).
    public static func engineSaysShellIsMissing(_ error: RuntimeError) -> Bool {
        guard error.kind == .execFailed || error.kind == .startFailed else { return false }
        let text = error.stderr.lowercased()
        return text.contains("\"sh\": executable file not found") || text.contains("\"/bin/sh\": executable file not found")
            || text.contains("stat /bin/sh: no such file")
    }

    /// `error` in the words of a node, when it is an image without a shell refusing a string
    /// command; any other error is returned as it is.
    public static func explain(_ error: any Error, argv: [String], node: String) -> any Error {
        guard isShellCommand(argv), var runtimeError = error as? RuntimeError,
              engineSaysShellIsMissing(runtimeError) else { return error }
        runtimeError.summary = "\(node)'s image has no /bin/sh: pass the command as an argv table, e.g. \(example(argv[2]))"
        runtimeError.hint = "a command given as a string runs with `sh -c`; a table runs the program directly, no shell needed"
        return runtimeError
    }

    /// The script as an argv table when it is plain words (what the user most likely meant), else
    /// a stand-in example.
    static func example(_ script: String) -> String {
        let words = script.split(whereSeparator: \.isWhitespace).map(String.init)
        let special = "|&;<>()$`\\\"'*?[]#~{}"
        let plain = !words.isEmpty && words.count <= 8 && !script.contains { special.contains($0) }
        return "{" + (plain ? words : ["etcdctl", "get", "k"]).map { "'\($0)'" }.joined(separator: ", ") + "}"
    }
}
