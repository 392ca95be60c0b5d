import Foundation
import Synchronization
import Testing
import Core
import CoreTesting

/// What a user sees while a cluster's image is pulled: the engine's progress on a terminal, one
/// line elsewhere, nothing when nothing is pulled.
@Suite struct PullOutputTests {
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func output(terminal: Bool) -> PullOutput {
            PullOutput(isTerminal: terminal) { line in self.lines.withLock { $0.append(line) } }
        }
    }

    static func spec(_ name: String, pull: PullPolicy?, output: PullOutput) -> ClusterSpec {
        var spec = ClusterSpec(name: name, profile: "generic", image: "img:1",
                               nodes: [NodeSpec(name: "node1", index: 1, plan: NodePlan(image: "img:1"))])
        spec.pull = pull
        spec.pullOutput = output
        return spec
    }

    static func store() -> StateStore {
        StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-pull-\(UUID().uuidString)"))
    }

    @Test func onATerminalCreateShowsTheEnginesProgress() async throws {
        let fake = FakeContainerRuntime(), lines = Lines(), store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        let cluster = try await Cluster.create(Self.spec("pull-tty", pull: .missing, output: lines.output(terminal: true)),
                                               runtime: fake, store: store)
        try await cluster.remove()
        #expect(lines.all == ["pulling image 'img:1' with docker (not on this machine)",
                              "img:1: Pulling from fake registry", "Status: Downloaded newer image for img:1"])
    }

    @Test func elsewhereOneLineSaysWhatIsPulled() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"]), lines = Lines(), store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        let cluster = try await Cluster.create(Self.spec("pull-log", pull: .always, output: lines.output(terminal: false)),
                                               runtime: fake, store: store)
        try await cluster.remove()
        #expect(lines.all == ["pulling image 'img:1' with docker (pull = \"always\")"])
        #expect(fake.calls("pullImage").count == 1)
    }

    @Test func nothingIsSaidWhenNothingIsPulled() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"]), lines = Lines(), store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.home) }
        let cluster = try await Cluster.create(Self.spec("pull-none", pull: .missing, output: lines.output(terminal: true)),
                                               runtime: fake, store: store)
        try await cluster.addNode(NodeSpec(name: "node2", index: 2, plan: NodePlan(image: "img:1")), pullOutput: lines.output(terminal: true))
        try await cluster.remove()
        #expect(lines.all.isEmpty)
        #expect(fake.calls("pullImage").isEmpty)
    }
}
