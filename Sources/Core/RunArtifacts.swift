import Foundation

/// The folders `ccm-lua test` leaves in `<state>/_artifacts/<UTC yyyyMMdd-HHmmss>-<pid>/` for a
/// failed run when no `--artifacts` is given. They are for a person looking into a failure, so
/// `ccm-lua gc` removes one only when it is older than `Defaults.artifactsRetention` and the run
/// that wrote it no longer runs; folders named otherwise are not ccm-lua's and stay.
public enum RunArtifacts {
    public static func folder(_ store: StateStore) -> URL { store.home.appendingPathComponent("_artifacts", isDirectory: true) }

    /// A run's folder name for a run that starts `now` in process `pid`.
    public static func name(now: Date = Date(), pid: Int32 = getpid()) -> String {
        "\(stamp.string(from: now))-\(pid)"
    }

    public struct Pruned: Sendable, Equatable {
        public var name: String
        /// Seconds since the run began.
        public var age: Double
        public var pid: Int32
    }

    /// Removes the run folders old enough whose run is gone; returns them (oldest first) and what
    /// could not be removed (one sentence each).
    public static func prune(_ store: StateStore, olderThan keep: Double = Defaults.artifactsRetention,
                             now: Date = Date()) -> (pruned: [Pruned], problems: [String]) {
        let folder = folder(store)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var pruned: [Pruned] = [], problems: [String] = []
        for name in names.sorted() {
            guard let (began, pid) = parse(name) else { continue }
            let age = now.timeIntervalSince(began)
            // A run still writing keeps its folder, however long it has run (`--repeat`).
            guard age > keep, !GarbageCollector.isAlive(pid) else { continue }
            do {
                try FileManager.default.removeItem(at: folder.appendingPathComponent(name))
                pruned.append(Pruned(name: name, age: age, pid: pid))
            } catch {
                problems.append("cannot remove \(folder.appendingPathComponent(name).path): \(error.localizedDescription)")
            }
        }
        return (pruned, problems)
    }

    /// `(began, pid)` from a run folder's name; nil for any other name.
    static func parse(_ name: String) -> (began: Date, pid: Int32)? {
        guard let match = name.wholeMatch(of: /([0-9]{8}-[0-9]{6})-([0-9]+)/), let pid = Int32(match.2),
              let began = stamp.date(from: String(match.1)) else { return nil }
        return (began, pid)
    }

    private static var stamp: DateFormatter {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter
    }
}
