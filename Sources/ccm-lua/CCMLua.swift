import ArgumentParser
import Bindings
import Core
import Foundation

/// The `ccm-lua` command. `ccm-lua FILE [args...]`, `-e`, `-i` and `-` behave as in lua(1) and are
/// parsed by `ScriptCommandLine`; words in `subcommands` go to ArgumentParser.
@main
struct CCMLua: AsyncParsableCommand {
    /// One file per subcommand. Add new ones here (test, doctor, ls, status, logs, exec, rm, gc).
    static let subcommands: [any ParsableCommand.Type] = [
        Test.self, ReaperCommand.self, Doctor.self, List.self, Status.self, Logs.self, Exec.self, Remove.self, Collect.self,
        Image.self,
        // ccm's commands (Sources/ccm-lua/ccm)
        CCMCreate.self, CCMPopulate.self, CCMAdd.self, CCMStart.self, CCMStop.self, CCMSwitch.self, CCMList.self,
        CCMRemove.self, CCMClear.self, CCMUpdateconf.self, CCMLiveset.self, CCMShow.self, CCMFlush.self, CCMCompact.self, CCMNode.self,
    ]

    static let configuration = CommandConfiguration(
        commandName: "ccm-lua",
        abstract: "Scripted tests of multi-node databases on Docker and Podman, in Lua 5.4.",
        usage: """
            ccm-lua [options] [script [args...]]
            ccm-lua <subcommand> [options]
            """,
        discussion: """
            Runs a Lua script the way lua(1) does, with the ccm-lua API available as globals
            (cluster, node, exec, log, json, parallel, sleep, wait_until, ...).

            Options (before the script; everything after the script goes to the script as `arg`
            and `...`):
              -e CODE     run CODE (may be repeated)
              -l NAME     require library NAME into global NAME
              -i          interactive mode after the script (or -e); the default on a terminal
              -v, -q      more, less log output (repeatable); CCM_LUA_LOG_LEVEL sets the level
              --          stop handling options
              -           run standard input as the script

            Environment: CCM_LUA_PATH (';'-separated folders searched by require, ';;' = Lua's
            default path), CCM_LUA_LOG_LEVEL (debug, info, warn, error).

            Exit status: 0 success, 1 an error (the message and a Lua traceback go to stderr),
            130 after Ctrl-C (143 after SIGTERM), or the code given to os.exit.
            """,
        version: "ccm-lua \(CCMVersion.current) (Lua 5.4)",
        subcommands: subcommands
    )

    static func main() async {
        Reaper.shared.enable()  // starts only when this process first creates a cluster
        var arguments = Array(CommandLine.arguments.dropFirst())
        // ccm's `nodeN VERB ...`, unless a script of that name is here.
        if let first = arguments.first, first.wholeMatch(of: /node[0-9]+/) != nil, !FileManager.default.fileExists(atPath: first) {
            arguments.insert("node", at: 0)
        }
        let names = Set(subcommands.map { $0._commandName })
        if let first = arguments.first, names.contains(first) || ["--help", "-h", "help", "--version"].contains(first) {
            await main(arguments)  // ArgumentParser: subcommands, help, version
            return
        }
        let status = await ScriptCommandLine.run(commandLine: CommandLine.arguments)
        Foundation.exit(status)
    }
}
