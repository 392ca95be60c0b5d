import Core
import CoreTesting
import Foundation
import Testing

/// The `image` module and `cluster.create{pull =}` against the fake engine: what the script gets
/// back and which engine calls it caused.
extension FakeClusters {
    @Suite struct ImageModuleTests {
        @Test func inspectExistsAndBuildGiveWhatTheEngineKnows() async throws {
            let context = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-ctx-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: context, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: context) }
            let run = try await runCluster("""
                out("exists", image.exists("busybox:latest"))
                out("absent", image.exists("nope:1"))
                local info = image.inspect("busybox:latest")
                out("id", info.id)
                local id, log_file = image.build{context = [[\(context.path)]], tag = "mine:1", file = "D", target = "t",
                                                 args = {A = "1"}, labels = {x = "y"}}
                out("built", id == image.inspect("mine:1").id)
                out("labels", image.inspect("mine:1").labels)
                out("log", log_file:match("/images/build%-mine_1%-%d+%.log$") ~= nil)
                local ok, err = pcall(image.inspect, "nope:1")
                out("missing", err.kind)
                local ok2, err2 = pcall(image.build, {tag = "x:1"})
                out("no context", tostring(err2))
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["exists"] == "true" && run.values["absent"] == "false")
            #expect(run.values["id"]?.hasPrefix("sha256:") == true)
            #expect(run.values["built"] == "true")
            #expect(run.values["labels"] == #"{"ccm-lua.built":"1","x":"y"}"#)
            #expect(run.values["log"] == "true")
            #expect(run.values["missing"] == "image")
            #expect(run.values["no context"]?.contains("field 'context'") == true, "\(run.values["no context"] ?? "")")
            #expect(run.fake.calls("buildImage").map(\.arguments) == [["mine:1", context.path]])
        }

        @Test func theClustersPullRuleOverridesTheEnvironment() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "pa", image = "busybox:latest", profile = "generic", pull = "always" }
                out("images", c:images())
                local ok, err = pcall(cluster.create, { name = "pn", image = "nope:1", profile = "generic", pull = "never" })
                out("never", tostring(err)); out("never kind", err.kind)
                local ok3, err3 = pcall(cluster.create, { name = "pb", image = "busybox:latest", pull = "sometimes" })
                out("bad", tostring(err3))
                c:remove()
                """, env: ["CCM_LUA_PULL": "missing"])
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.fake.calls("pullImage").map(\.arguments) == [["busybox:latest"]], "always pulls a present image; never pulls none")
            let id = try await run.fake.inspectImage("busybox:latest").id
            #expect(run.values["images"] == #"{"node1":{"id":"\#(id)","ref":"busybox:latest"}}"#)
            #expect(run.values["never"]?.hasPrefix(run.at(3) + #"image 'nope:1' is not on this machine (pulling is off: pull = "never")"#) == true,
                    "\(run.values["never"] ?? "")")
            #expect(run.values["never kind"] == "image")
            #expect(run.values["bad"] == run.at(5) + #"spec.pull must be "missing", "always" or "never", got "sometimes""#)
            #expect(run.fake.calls("createNetwork").map(\.arguments.first) == ["ccm-lua-pa"])
        }
    }
}
