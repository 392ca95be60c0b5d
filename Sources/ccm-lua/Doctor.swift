import ArgumentParser
import Core
import Foundation

/// `ccm-lua doctor`: which container engine ccm-lua would use, and what to fix when none works.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check which container engine ccm-lua will use.",
        discussion: """
            Tries the engine named by CCM_LUA_RUNTIME (or CCM_CONTAINER_RUNTIME), else docker and \
            then podman, and reports each one's client and engine versions, or why it does not \
            answer and how to fix that. Exits 1 when no usable engine is found.
            """)

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        let report = await EngineDiscovery().doctor()
        if json {
            print(Self.json(report))
        } else {
            print(report.text)
            print(await NetemSupport.doctorText(engine: report.selectedAttempt?.candidate.engine))
        }
        if report.selected == nil { throw ExitCode(1) }
    }

    /// A stable machine-readable form: one object per engine tried.
    static func json(_ report: DoctorReport) -> String {
        let engines: [[String: Any]] = report.attempts.enumerated().map { index, attempt in
            var entry: [String: Any] = [
                "engine": attempt.candidate.engine.rawValue,
                "executable": attempt.candidate.executable,
                "source": attempt.candidate.source.rawValue,
                "ok": attempt.ok,
                "selected": index == report.selected,
            ]
            if let path = attempt.path { entry["path"] = path }
            if let client = attempt.clientVersion { entry["client"] = client }
            if let server = attempt.serverVersion { entry["server"] = server }
            if let error = attempt.error {
                entry["error"] = ["kind": error.kind.rawValue, "summary": error.summary, "hint": error.hint ?? "",
                                  "stderr": error.stderr]
            }
            return entry
        }
        var document: [String: Any] = ["engines": engines]
        if let selected = report.selectedAttempt { document["selected"] = selected.candidate.engine.rawValue }
        if let problem = report.configurationError { document["configurationError"] = problem.summary }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
