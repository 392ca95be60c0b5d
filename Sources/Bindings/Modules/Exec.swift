import Core

/// `exec.host(cmd, opts)`: runs a program on the host through Core's ProcessRunner.
/// The Lua module `ccm.exec` (lua/ccm/exec.lua) re-exports it next to `exec.on`.
enum Exec {
    static var module: LuaModule {
        var module = LuaModule("ccm.exec.native")
        module.function("host", host)
        return module
    }

    /// cmd: an argv table (run exactly) or a string (run through the shell: Core's `ShellCommand`).
    /// opts: env (table), workdir, timeout (seconds), stdin (string).
    /// Returns {code=, stdout=, stderr=, duration=}; a non-zero exit is a result, not an error.
    static func host(_ ctx: LuaCallContext) throws -> LuaReturn {
        let argv: [String]
        switch ctx.type(at: 1) {
        case .string: argv = ShellCommand.argv(try ctx.string(1))
        case .table:
            argv = try ctx.stringList(1)
            if argv.isEmpty { throw LuaArgumentError(1, detail: "the command is empty") }
        default: throw LuaArgumentError(1, expected: "string or table")
        }
        let options = try ctx.options(2)
        let environment = try options?.stringMap("env") ?? [:]
        let workdir = try options?.string("workdir")
        let stdin = try options?.bytes("stdin")
        let timeout = try options?.number("timeout")
        if let timeout, !(timeout > 0) { throw LuaArgumentError(2, detail: "field 'timeout': must be > 0") }

        return ctx.suspend({
            try await ProcessRunner.run(argv, environment: environment, stdin: stdin,
                                        workingDirectory: workdir, timeout: timeout)
        }, then: { ctx, output in
            ctx.push(.table([
                "code": .integer(Int(output.code)),
                "stdout": .bytes(output.stdout),
                "stderr": .bytes(output.stderr),
                "duration": .number(output.duration),
            ]))
            return 1
        })
    }
}

extension ProcessRunner.TimedOut: LuaErrorConvertible {
    public var luaError: LuaError {
        let command = argv.map(shellQuoted).joined(separator: " ")
        return LuaError(kind: "timeout", "command did not finish within \(seconds) s and was killed: \(command)",
                        cmd: command)
    }
}

extension ProcessRunner.LaunchFailed: LuaErrorConvertible {
    public var luaError: LuaError {
        let command = argv.map(shellQuoted).joined(separator: " ")
        return LuaError(kind: "exec", "cannot run '\(argv.first ?? "")': \(reason)", cmd: command, code: 127)
    }
}
