import Foundation

extension CLIContainerRuntime {
    /// The client command that runs `argv` in a container attached to the caller's terminal:
    /// stdin, stdout and stderr pass straight through (streamed, interactive programs work) and the
    /// client's exit status is the program's. `ccm-lua exec` replaces itself with it, which is why
    /// this is a command line and not a call: nothing of ccm-lua needs to stay in between.
    public func attachedExecCommandLine(_ container: ContainerRef, _ argv: [String], tty: Bool) -> [String] {
        commandLine(["exec", "-i"] + (tty ? ["-t"] : []) + [container] + argv)
    }

    /// The environment the client runs with: this process's plus the runtime's own additions.
    public var clientEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
    }
}
