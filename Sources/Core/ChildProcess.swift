import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Starting a ccm-lua process of our own (a test worker, the reaper) with file descriptors
/// placed where it expects them, which Foundation's Process cannot do.
public enum ChildProcess {
    /// Starts `argv` (argv[0] is the executable path). `files` maps a descriptor in the child to
    /// one of ours. `newSession`: the child leaves our session and process group, so a Ctrl-C
    /// meant for us does not reach it; `newProcessGroup` only the group (a Ctrl-C on the terminal
    /// reaches us alone, and we decide what the child gets). Descriptors not in `files` (other than 0, 1, 2) are
    /// closed in the child.
    public static func spawn(_ argv: [String], environment: [String: String]? = nil, files: [Int32: Int32] = [:],
                             newSession: Bool = false, newProcessGroup: Bool = false) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        // Copies far above the targets, so no dup2 maps a descriptor onto itself (which would keep
        // its close-on-exec flag).
        var copies: [Int32] = []
        defer { for copy in copies { close(copy) } }
        var highest: Int32 = 2
        for (target, source) in files.sorted(by: { $0.key < $1.key }) {
            let copy = fcntl(source, F_DUPFD_CLOEXEC, 64)
            guard copy >= 0 else { throw ChildProcessError(argv: argv, problem: "cannot copy descriptor \(source): \(String(cString: strerror(errno)))") }
            copies.append(copy)
            posix_spawn_file_actions_adddup2(&actions, copy, target)
            highest = max(highest, target)
        }
        if let closeFrom = Self.closeFrom { _ = closeFrom(&actions, highest + 1) }
        if newSession {
            posix_spawnattr_setflags(&attributes, Self.setsidFlag)
        } else if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        }

        let environment = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var cArguments = argv.map { strdup($0) } + [nil]
        var cEnvironment = environment.map { strdup($0) } + [nil]
        defer { for pointer in cArguments + cEnvironment { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, argv[0], &actions, &attributes, &cArguments, &cEnvironment)
        guard status == 0 else { throw ChildProcessError(argv: argv, problem: String(cString: strerror(status))) }
        return pid
    }

    /// glibc's POSIX_SPAWN_SETSID (2.26+), which Swift does not import.
    private static let setsidFlag: Int16 = 0x80

    /// glibc 2.34+'s posix_spawn_file_actions_addclosefrom_np, looked up at run time: Swift does
    /// not import it. Without it the child inherits only descriptors not marked close-on-exec.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    nonisolated(unsafe) private static let closeFrom: CloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    /// Waits for `pid` to end: its exit status, or 128 + the signal that ended it.
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// The path of the running executable (/proc/self/exe), for starting another copy of it.
    public static var currentExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public var argv: [String]
    public var problem: String
    public var description: String { "cannot start \(argv.joined(separator: " ")): \(problem)" }
}
