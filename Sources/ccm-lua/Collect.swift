import ArgumentParser
import Core
import Foundation

/// `ccm-lua gc`: cleans up after ccm-lua processes that died without removing their clusters
/// (SIGKILL, OOM killer, a CI runner torn down mid-test).
struct Collect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove clusters whose owner process is gone (never kept ones), and old artifacts of finished runs.",
        discussion: """
            Looks at every engine that answers for containers labelled by ccm-lua whose creating \
            process no longer runs, and removes them with their network and state. Clusters \
            created with keep = true are never removed (use `ccm-lua rm`). Also removes failed \
            runs' artifacts in <state>/_artifacts/ older than a day whose run no longer runs. \
            Exits 1 when no engine answers or a removal fails.
            """)

    func run() async throws {
        // Failed runs' artifacts need no engine: pruned even when none answers.
        let artifacts = RunArtifacts.prune(StateStore.fromEnvironment())
        for p in artifacts.pruned {
            Output.line("removed artifacts \(p.name) (\(Int(p.age / 3600)) h old, run pid \(p.pid) is gone)")
        }
        for problem in artifacts.problems { Output.complain("gc", problem) }
        let results = await ClusterInventory().collectGarbage()
        var removedAny = !artifacts.pruned.isEmpty, answered = false, failed = !artifacts.problems.isEmpty
        for (engine, result) in results {
            switch result {
            case .success(let removed):
                answered = true
                for r in removed {
                    removedAny = true
                    Output.line("removed \(r.cluster) on \(engine.rawValue): \(Self.describe(r))")
                }
            case .failure(let error as RuntimeError) where [.runtimeNotFound, .daemonNotRunning].contains(error.kind):
                Output.complain("gc", "skipped \(engine.rawValue), it does not answer: \(error.summary)")
            case .failure(let error):
                failed = true
                Output.complain("gc", "on \(engine.rawValue): \(error)")
            }
        }
        guard answered else { throw Output.fail("gc", "no container engine answered; `ccm-lua doctor` says why") }
        if !removedAny && !failed { print("nothing to remove") }
        if failed { throw ExitCode(1) }
    }

    static func describe(_ r: GarbageCollector.Removed) -> String {
        var parts = ["\(r.containers) container\(r.containers == 1 ? "" : "s")"]
        if r.networks > 0 { parts.append("\(r.networks) network\(r.networks == 1 ? "" : "s")") }
        if r.state { parts.append("state") }
        let owner = r.ownerPID.map { "owner pid \($0) is gone" } ?? "owner unknown"
        return parts.joined(separator: ", ") + " (\(owner))"
    }
}
