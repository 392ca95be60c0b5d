import Foundation
import Testing
import Core

/// A run records exactly which image every node ran: a scenario can assert it, and a failing
/// test's artifacts and history name the image's id, on both engines.
@Suite(.serialized) struct ImagePinningTests {
    @Test(arguments: Engine.allCases)
    func aFailingTestsArtifactsAndHistoryNameTheImageItRan(_ engine: Engine) async throws {
        let name = RunnerTests.unique("pin", engine)
        try await ScenarioTests.withScenario(engine, clusters: [name]) { scenario in
            let expected = try await CLIContainerRuntime(engine: engine).inspectImage(Integration.etcdImage)
            let artifacts = scenario.folder.appendingPathComponent("artifacts")
            let test = "runs the image it meant to, then fails"
            let spec = try scenario.write("pin_spec.lua", """
                it("\(test)", function()
                  local c = cluster.create { profile = "etcd", name = "\(name)", nodes = 1, start = true }
                  local want = image.inspect("\(Integration.etcdImage)")
                  assert.equal(want.id, c:images().node1.id)
                  assert.equal(want.digest, c:images().node1.digest)
                  error("failing on purpose after the image checks")
                end)
                """)
            let result = try scenario.run(["test", "-o", "plain", "--artifacts", artifacts.path, spec])
            #expect(result.status == 1)
            #expect(result.stdout.contains("failing on purpose after the image checks"), "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")

            let folder = artifacts.appendingPathComponent(TestArtifacts.folderName(test))
            let images = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("images.json"))) as? [String: [String: String]]
            let node1 = try #require(images?["\(name)/node1"], "\(String(describing: images))")
            #expect(node1["id"] == expected.id, "images.json: \(node1), the engine: \(expected.id)")
            #expect(node1["digest"] == expected.digest, "images.json: \(node1), the engine: \(expected.digest ?? "none")")

            let history = try HistoryFile.read(folder.appendingPathComponent("history.jsonl"))
            let create = try #require(history.first { $0.kind == "cluster" && $0.name == "create" && $0.cluster == name }, "\(history)")
            #expect(create.details["image_id"] == expected.id && create.details["image_digest"] == expected.digest, "\(create.details)")
            let start = try #require(history.first { $0.kind == "node" && $0.name == "start" && $0.node == "node1" }, "\(history)")
            #expect(start.details["image_id"] == expected.id, "\(start.details)")
            #expect(start.details["image_digest"] == expected.digest, "\(start.details)")
            #expect(try await scenario.leftovers([name]).isEmpty)
        }
    }
}
