import Core
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
    /// Show tracebacks whole, with the built-in library's frames (CCM_LUA_DEBUG=1, or -v).
    public var fullTracebacks: Bool
    /// Called when a script starts a cluster and waits for it, to show how the start goes; the
    /// command line installs one that draws on the terminal. Nil shows nothing.
    public var startProgress: (@Sendable (_ cluster: String) -> any StartProgressObserver)?

    public init(logLevel: LogLevel = .info, scriptFolder: String? = nil, extraPath: String? = nil,
                printErrors: Bool = true, fullTracebacks: Bool = false,
                startProgress: (@Sendable (_ cluster: String) -> any StartProgressObserver)? = nil) {
        self.logLevel = logLevel; self.scriptFolder = scriptFolder; self.extraPath = extraPath
        self.printErrors = printErrors; self.fullTracebacks = fullTracebacks; self.startProgress = startProgress
    }

    /// Defaults from the environment: CCM_LUA_LOG_LEVEL, CCM_LUA_PATH, CCM_LUA_DEBUG.
    public static func fromEnvironment(verbosity: Int = 0) -> HostSettings {
        let environment = ProcessInfo.processInfo.environment
        var level = environment["CCM_LUA_LOG_LEVEL"].flatMap(LogLevel.init(name:)) ?? .info
        if verbosity != 0 { level = LogLevel.info.adjusted(by: verbosity) }
        return HostSettings(logLevel: level, extraPath: environment["CCM_LUA_PATH"],
                            fullTracebacks: environment["CCM_LUA_DEBUG"].map { !["", "0"].contains($0) } ?? false
                                || level <= .debug)
    }
}

/// Someone who shows a cluster start as it goes: `update` with every change, `finish` once.
public protocol StartProgressObserver: Sendable {
    func update(_ progress: StartProgress)
    func finish()
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
