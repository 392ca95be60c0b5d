import ArgumentParser
import Core
import Foundation

/// `ccm-lua doctor`: which container engine ccm-lua would use, and what to fix when none works.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check which container engine ccm-lua will use, and that its containers find each other by name.",
        discussion: """
            Tries the engine named by CCM_LUA_RUNTIME (or CCM_CONTAINER_RUNTIME), else docker and \
            then podman, and reports each one's client and engine versions, or why it does not \
            answer and how to fix that, and whether ccm-lua reaches it through its API socket or \
            only its client (CCM_LUA_ENGINE_API=auto|on|off). Then, on every engine that answers (only the chosen one \
            when a variable chose it), it checks what every cluster needs: on a scratch network, \
            one container resolves another by its network alias and connects to it (etcd in both; \
            everything is removed afterwards). A failed check names the cause and the fix. Exits 1 \
            when no usable engine is found or a check fails.
            """)

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    @Option(name: .long, help: ArgumentHelp(
        "Image for the name-resolution check; it needs `etcd` and `etcdctl` on PATH.",
        discussion: "Default: the first local image whose repository is named etcd (ccm-lua-test/etcd:3.4 first).",
        valueName: "image"))
    var probeImage: String?

    @Flag(name: .long, help: "Skip the name-resolution check (only ask the engines for their versions).")
    var noNetworkCheck = false

    @Option(name: .long, help: ArgumentHelp(
        "Check these engines for a cluster across hosts instead: each answers, all are in one Docker Swarm, and an overlay network resolves names across them.",
        discussion: "Comma-separated engine addresses (unix://, tcp://, ssh://) or Docker context names, named h1, h2, ... in order, or NAME=ADDRESS.",
        valueName: "hosts"))
    var hosts: String?

    func run() async throws {
        if let hosts { return try await checkHosts(hosts) }
        let discovery = EngineDiscovery()
        let report = await discovery.doctor()
        var checks: [Engine: NetworkCheck] = [:]
        if !noNetworkCheck {
            for attempt in report.enginesToCheck {
                guard let runtime = discovery.makeRuntime(attempt.candidate, discovery.environment).commandLineClient else { continue }
                if let image = await NameResolutionCheck.chooseImage(runtime, requested: probeImage) {
                    checks[runtime.engine] = .ran(await NameResolutionCheck(runtime: runtime, image: image).run())
                } else {
                    checks[runtime.engine] = .noImage(NameResolutionCheck.noImageHint(runtime.engine))
                }
            }
        }
        if json {
            print(Self.json(report, checks: checks))
        } else {
            print(Self.text(report, checks: checks))
            print(await NetemSupport.doctorText(engine: report.selectedAttempt?.candidate.engine))
        }
        let failed = checks.values.contains { if case .ran(let outcome) = $0 { !outcome.ok } else { false } }
        if report.selected == nil || failed { throw ExitCode(1) }
    }

    /// `--hosts`: the engines of a cluster across hosts, checked as `cluster.create{hosts =}` needs them.
    private func checkHosts(_ list: String) async throws {
        let entries = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let hosts: [EngineHost]
        do {
            hosts = try entries.enumerated().map { i, entry in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                return parts.count == 2 ? try EngineHost(name: parts[0], address: parts[1]) : try EngineHost(name: "h\(i + 1)", address: entry)
            }
        } catch { throw Output.fail("doctor", error) }
        guard !hosts.isEmpty else { throw ValidationError("--hosts needs at least one engine address, e.g. --hosts unix:///var/run/docker.sock,tcp://HOST:2376") }
        EngineHost.warnIfPlainTCP(hosts)
        let manager = hosts[0].runtime()
        let image = await NameResolutionCheck.chooseImage(manager, requested: probeImage) ?? NameResolutionCheck.testImage
        let outcome = await HostsCheck(hosts: hosts, image: image).run()
        print(outcome.text)
        if !outcome.ok { throw ExitCode(1) }
    }

    enum NetworkCheck {
        case ran(NameResolutionCheck.Outcome)
        case noImage(String)
    }

    /// The engine report with each engine's check below its lines.
    static func text(_ report: DoctorReport, checks: [Engine: NetworkCheck]) -> String {
        var text = report.text
        for engine in Engine.allCases {
            switch checks[engine] {
            case .ran(let outcome): text += "\n\(engine.rawValue):\n" + outcome.text
            case .noImage(let hint): text += "\n\(engine.rawValue):\n  name resolution on a user network: not checked: \(hint)"
            case nil: break
            }
        }
        let outcomes = checks.values.compactMap { if case .ran(let outcome) = $0 { outcome } else { nil } }
        if outcomes.contains(where: { !$0.ok && $0.ran }) {
            text += "\nA name-resolution check failed: clusters on that engine will not form until it is fixed as shown above."
        } else if outcomes.contains(where: { !$0.ran }) {
            text += "\nA name-resolution check could not run: fix it as shown above, or pass --probe-image with an etcd image that is present."
        }
        return text
    }

    /// A stable machine-readable form: one object per engine tried.
    static func json(_ report: DoctorReport, checks: [Engine: NetworkCheck] = [:]) -> String {
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
            if let engineAPI = attempt.engineAPI { entry["engineAPI"] = engineAPI }
            switch checks[attempt.candidate.engine] {
            case .ran(let outcome):
                var check: [String: Any] = ["ok": outcome.ok, "ran": outcome.ran, "image": outcome.image, "summary": outcome.summary,
                                            "seconds": outcome.seconds]
                if let cause = outcome.cause { check["cause"] = cause }
                if let fix = outcome.fix { check["fix"] = fix }
                if let setup = outcome.setup {
                    check["podmanNetworkBackend"] = setup.backend
                    if let helper = setup.dnsHelper { check["dnsHelper"] = helper }
                }
                if !outcome.leftovers.isEmpty { check["leftovers"] = outcome.leftovers }
                entry["nameResolution"] = check
            case .noImage(let hint):
                entry["nameResolution"] = ["ok": NSNull(), "skipped": hint]
            case nil: break
            }
            if let error = attempt.error {
                entry["error"] = ["kind": error.kind.rawValue, "summary": error.summary, "hint": error.hint ?? "",
                                  "stderr": error.stderr]
            }
            return entry
        }
        var document: [String: Any] = ["engines": engines]
        if let selected = report.selectedAttempt { document["selected"] = selected.candidate.engine.rawValue }
        if let problem = report.configurationError { document["configurationError"] = problem.summary }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
