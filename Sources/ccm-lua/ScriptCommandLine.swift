import Bindings
import Core
import Foundation

/// Parses a lua(1)-style command line and runs it in the Lua host.
struct ScriptCommandLine {
    var actions: [LuaHost.Action] = []
    var interactive = false
    var verbosity = 0
    var scriptIndex: Int?
    var scriptPath: String?

    enum Problem: Error { case usage(String) }

    /// `commandLine` includes the program name, as CommandLine.arguments does.
    init(_ commandLine: [String]) throws {
        var index = 1
        var sawCode = false
        while index < commandLine.count {
            let argument = commandLine[index]
            if argument == "--" { index += 1; break }
            if argument == "-" || !argument.hasPrefix("-") { break }  // the script
            switch argument {
            case "-i": interactive = true
            case "-e", "-l":
                guard index + 1 < commandLine.count else { throw Problem.usage("'\(argument)' needs an argument") }
                index += 1
                actions.append(argument == "-e" ? .code(commandLine[index]) : .require(commandLine[index]))
                sawCode = true
            case _ where argument.hasPrefix("-e"): actions.append(.code(String(argument.dropFirst(2)))); sawCode = true
            case _ where argument.hasPrefix("-l"): actions.append(.require(String(argument.dropFirst(2)))); sawCode = true
            case _ where argument.dropFirst().allSatisfy({ $0 == "v" }): verbosity += argument.count - 1
            case _ where argument.dropFirst().allSatisfy({ $0 == "q" }): verbosity -= argument.count - 1
            default: throw Problem.usage("unrecognized option '\(argument)'")
            }
            index += 1
        }
        if index < commandLine.count {
            scriptIndex = index
            scriptPath = commandLine[index]
            actions.append(.script(path: commandLine[index], arguments: Array(commandLine[(index + 1)...])))
            actions.append(.code(Self.runDefinedTests))
        }
        if interactive {
            actions.append(.repl)
        } else if scriptPath == nil && !sawCode {
            actions.append(isatty(0) != 0 ? .repl : .script(path: "-", arguments: []))
        }
    }

    /// After the script: runs the tests it defined with describe/it, if any (ccm.test is loaded
    /// only by a script that used them); a failed test makes the exit status 1.
    static let runDefinedTests = "local t = package.loaded['ccm.test'] if t and t.run_defined() > 0 then os.exit(1) end"

    static func run(commandLine: [String]) async -> Int32 {
        let parsed: ScriptCommandLine
        do {
            parsed = try ScriptCommandLine(commandLine)
        } catch Problem.usage(let message) {
            FileHandle.standardError.write(Data("ccm-lua: \(message)\nusage: ccm-lua [options] [script [args...]] (see ccm-lua --help)\n".utf8))
            return 1
        } catch {
            return 1
        }
        var settings = HostSettings.fromEnvironment(verbosity: parsed.verbosity)
        if settings.logLevel <= .info { settings.startProgress = { StartProgressPrinter(cluster: $0) } }
        if let path = parsed.scriptPath, path != "-" {
            settings.scriptFolder = (path as NSString).deletingLastPathComponent.isEmpty
                ? "." : (path as NSString).deletingLastPathComponent
        }
        LuaHost.handleSignals()
        if let path = ProcessInfo.processInfo.environment[HistoryFile.variable], !path.isEmpty { HistoryFile.writeAtExit(to: path) }
        let invocation = LuaHost.Invocation(actions: parsed.actions, commandLine: commandLine,
                                            scriptIndex: parsed.scriptIndex)
        return await LuaHost.run(invocation, settings: settings).status
    }
}
