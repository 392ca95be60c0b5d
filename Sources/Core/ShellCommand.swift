/// The one rule for a command given as a single string: it runs through the shell, `sh -c`, on
/// the host (`exec.host`) and in containers (`n:exec`, `n:run`, a plan's or a service's
/// `command`). A list of words runs exactly as given, with no shell, so an image with no shell
/// still runs argv commands.
public enum ShellCommand {
    /// The shell every string command runs with; images without it need argv commands.
    public static let shell = "sh"

    /// `["sh", "-c", script]`.
    public static func argv(_ script: String) -> [String] { [shell, "-c", script] }
}

extension ShellCommand {
    /// A command as a person reads it: a shell string as written, argv words joined by spaces.
    public static func display(_ argv: [String]) -> String {
        if argv.count == 3, argv[0] == shell, argv[1] == "-c" { return argv[2] }
        return argv.joined(separator: " ")
    }
}
