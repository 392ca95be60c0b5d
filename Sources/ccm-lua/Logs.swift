import ArgumentParser
import Core
import Foundation
import Synchronization

/// `ccm-lua logs CLUSTER NODE`: the node's captured log (`<state>/<cluster>/<node>/logs/node.log`),
/// which outlives the container and holds every start of the node, unlike `docker logs`.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a node's log; -f follows it until Ctrl-C.",
        discussion: """
            Prints the log ccm-lua captured for the node, first catching up on what the engine \
            logged since (when no other ccm-lua process is capturing it). With -f, new lines are \
            printed as they come; when no script follows the node, this command copies them from \
            the engine itself, so the captured log stays complete.
            """)

    @Argument(help: "The cluster.") var cluster: String
    @Argument(help: "The node (node1, node2, ...).") var node: String
    @Flag(name: .shortAndLong, help: "Keep printing new lines until Ctrl-C.") var follow = false
    @Option(name: .long, help: "Print only the last N lines first.") var tail: Int?
    @Flag(name: [.customShort("t"), .long], help: "Keep each line's engine timestamp.") var timestamps = false

    func validate() throws {
        if let tail, tail < 0 { throw ValidationError("--tail must be 0 or more (got \(tail))") }
    }

    func run() async throws {
        let log: NodeLog
        do {
            let cluster = try ClusterInventory().open(self.cluster)
            log = try await cluster.log(of: node)
        } catch {
            throw Output.fail("logs", error)
        }
        await log.catchUp()
        guard follow else {
            let lines = tail.map { log.tail($0, timestamps: timestamps) } ?? ((try? log.read(from: 0, timestamps: timestamps).lines) ?? [])
            lines.forEach { print($0) }
            return
        }
        let interrupt = Interrupt.install()
        var (lines, offset) = (try? log.read(from: 0, timestamps: timestamps)) ?? ([], 0)
        if let tail { lines = Array(lines.suffix(tail)) }
        lines.forEach { print($0) }
        fflush(nil)  // nil: every stream; naming stdout is not concurrency-safe in Swift 6
        try await followLines(log, from: offset, until: interrupt)
        await log.stopFollowing()
        throw ExitCode(128 + (interrupt.received ?? SIGINT))
    }

    /// Prints lines as they are appended. The file may be written by another process (the script
    /// that owns the cluster), so changes are looked for 10 times a second rather than awaited;
    /// and whenever nobody copies the engine's log (the node was just started by someone, or the
    /// script ended), this process starts copying it.
    private func followLines(_ log: NodeLog, from start: Int64, until interrupt: Interrupt) async throws {
        var offset = start
        var lastCheck = ContinuousClock.now - .seconds(10)
        while interrupt.received == nil {
            if ContinuousClock.now - lastCheck > .seconds(2) {
                lastCheck = .now
                if !log.isFollowing && !log.isFollowedElsewhere() { log.follow() }
            }
            let lines: [String]
            do { (lines, offset) = try log.read(from: offset, timestamps: timestamps) } catch {
                await log.stopFollowing()
                throw Output.fail("logs", "cannot read \(log.file.path) any more (was the cluster removed?): \(error.localizedDescription)")
            }
            if !lines.isEmpty {
                lines.forEach { print($0) }
                fflush(nil)  // nil: every stream; naming stdout is not concurrency-safe in Swift 6
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// SIGINT/SIGTERM turned into a flag, so a long-running subcommand can stop its engine processes
/// and exit with 128+signal instead of dying with them still running.
final class Interrupt: Sendable {
    private let signal = Mutex<Int32?>(nil)
    /// Kept only so the sources live as long as this object; never touched after `init`.
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    var received: Int32? { signal.withLock { $0 } }

    static func install() -> Interrupt {
        let interrupt = Interrupt()
        for number in [SIGINT, SIGTERM] {
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { interrupt.signal.withLock { $0 = $0 ?? number } }
            source.resume()
            interrupt.sources.append(source)
        }
        return interrupt
    }
}
