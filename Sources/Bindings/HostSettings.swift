import Foundation

/// What the command line decided for one run of the host.
public struct HostSettings: Sendable {
    public var logLevel: LogLevel
    /// The folder of the script being run (searched first by `require`); nil for -e, stdin, REPL.
    public var scriptFolder: String?
    /// CCM_LUA_PATH.
    public var extraPath: String?
    /// Print the report of an uncaught error to stderr (the CLI does; tests read the outcome).
    public var printErrors: Bool

    public init(logLevel: LogLevel = .info, scriptFolder: String? = nil, extraPath: String? = nil,
                printErrors: Bool = true) {
        self.logLevel = logLevel; self.scriptFolder = scriptFolder; self.extraPath = extraPath
        self.printErrors = printErrors
    }

    /// Defaults from the environment: CCM_LUA_LOG_LEVEL, CCM_LUA_PATH.
    public static func fromEnvironment(verbosity: Int = 0) -> HostSettings {
        let environment = ProcessInfo.processInfo.environment
        var level = environment["CCM_LUA_LOG_LEVEL"].flatMap(LogLevel.init(name:)) ?? .info
        if verbosity != 0 { level = LogLevel.info.adjusted(by: verbosity) }
        return HostSettings(logLevel: level, extraPath: environment["CCM_LUA_PATH"])
    }
}

public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case debug, info, warn, error, silent

    public init?(name: String) {
        switch name.lowercased() {
        case "debug", "trace": self = .debug
        case "info": self = .info
        case "warn", "warning": self = .warn
        case "error": self = .error
        case "silent", "off", "none", "quiet": self = .silent
        default: return nil
        }
    }

    /// -v makes it chattier (positive), -q quieter (negative).
    public func adjusted(by verbosity: Int) -> LogLevel {
        LogLevel(rawValue: min(max(rawValue - verbosity, 0), LogLevel.silent.rawValue))!
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    var label: String {
        switch self {
        case .debug: "DEBUG"
        case .info: "INFO "
        case .warn: "WARN "
        case .error: "ERROR"
        case .silent: ""
        }
    }
}
