import ArgumentParser
import Core
import Foundation

/// `ccm-lua __reaper`: started by a ccm-lua process when it first creates a resource; removes
/// what that process leaves if it dies without cleaning up (Core's `Reaper`, docs/runner.md).
struct ReaperCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__reaper", shouldDisplay: false)

    @Option(help: "The owner's run id (label ccm-lua.run).")
    var run: String
    @Option(help: "The owner's pid, for the message.")
    var owner: String

    func run() async throws {
        signal(SIGINT, SIG_IGN)  // in its own session already; a stray Ctrl-C must not stop it
        _ = await ReaperProcess.run(runID: run, owner: owner)
    }
}
