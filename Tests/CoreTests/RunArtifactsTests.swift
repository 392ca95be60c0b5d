import Foundation
import Testing
import Core

/// What `ccm-lua gc` prunes of `<state>/_artifacts/`: run folders older than a day whose run is
/// gone; nothing else.
@Suite struct RunArtifactsTests {
    @Test func prunesOnlyOldFoldersOfRunsThatAreGone() throws {
        let store = StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-art-\(UUID().uuidString)"))
        defer { try? FileManager.default.removeItem(at: store.home) }
        let now = Date()
        let dead: Int32 = 5_000_000, alive = getpid()
        let old = now.addingTimeInterval(-2 * Defaults.artifactsRetention), recent = now.addingTimeInterval(-60)
        let folders = [
            "oldDead": RunArtifacts.name(now: old, pid: dead),
            "oldAlive": RunArtifacts.name(now: old, pid: alive),
            "recentDead": RunArtifacts.name(now: recent, pid: dead),
            "notOurs": "my-notes",
        ]
        for name in folders.values {
            let dir = RunArtifacts.folder(store).appendingPathComponent(name).appendingPathComponent("a-test")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data("log\n".utf8).write(to: dir.appendingPathComponent("c-node1.log"))
        }

        let (pruned, problems) = RunArtifacts.prune(store, now: now)
        #expect(problems.isEmpty, "\(problems)")
        #expect(pruned.map(\.name) == [folders["oldDead"]!])
        #expect(pruned.first?.pid == dead && (pruned.first?.age ?? 0) >= 2 * Defaults.artifactsRetention - 1)
        let left = try FileManager.default.contentsOfDirectory(atPath: RunArtifacts.folder(store).path).sorted()
        #expect(left == [folders["notOurs"]!, folders["oldAlive"]!, folders["recentDead"]!].sorted())
        // No folder at all is nothing to prune.
        let empty = StateStore(home: store.home.appendingPathComponent("none"))
        #expect(RunArtifacts.prune(empty).pruned.isEmpty)
    }
}
