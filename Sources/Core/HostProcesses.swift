import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Looks at processes on this machine through /proc (Linux). Used where an engine leaves no
/// other handle: a timed-out exec'd process, and tests that check nothing was left running.
public enum HostProcesses {
    /// Process ids whose parent is `parent`, with their command lines (arguments joined by spaces).
    public static func children(of parent: Int32) -> [(pid: Int32, commandLine: String)] {
        allPIDs().compactMap { pid in
            guard let stat = read("/proc/\(pid)/stat"), parentPID(fromStat: stat) == parent else { return nil }
            let cmdline = read("/proc/\(pid)/cmdline") ?? ""
            return (pid, cmdline.split(separator: "\0").joined(separator: " "))
        }
    }

    /// Sends SIGKILL to every process whose environment contains `entry` (`NAME=value`) exactly.
    /// Processes this user may not read are skipped. Returns how many were signalled.
    @discardableResult
    public static func kill(withEnvironmentEntry entry: String) -> Int {
        var killed = 0
        for pid in allPIDs() where pid != getpid() {
            guard let environ = read("/proc/\(pid)/environ") else { continue }
            if environ.split(separator: "\0").contains(where: { $0 == entry }) {
                if Glibc.kill(pid, SIGKILL) == 0 { killed += 1 }
            }
        }
        return killed
    }

    static func allPIDs() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
    }

    /// The 4th field of /proc/PID/stat, read after the command name's closing parenthesis (the
    /// name itself may contain spaces and parentheses).
    static func parentPID(fromStat stat: String) -> Int32? {
        guard let close = stat.range(of: ")", options: .backwards) else { return nil }
        let fields = stat[close.upperBound...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
