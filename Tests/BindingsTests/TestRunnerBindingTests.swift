import Testing

extension FakeClusters {
    /// The runner's cluster bookkeeping with the fake engine: a test's clusters go when it ends,
    /// a block's setup clusters when the block ends, clusters made with `keep` stay.
    @Suite struct TestRunnerClusterTests {
        @Test func clustersLiveAsLongAsTheTestOrBlockThatMadeThem() async throws {
            let run = try await runCluster("""
                local function names()
                  local list = cluster.list()
                  table.sort(list)
                  return table.concat(list, ",")
                end
                local function make(name, keep)
                  return cluster.create { name = name, profile = "generic", image = "busybox:latest",
                                          command = { "sleep", "1000" }, keep = keep }
                end
                describe("block", function()
                  setup(function() make("outer") end)
                  it("a", function() make("inner-a"); make("kept", true); out("during-a", names()) end)
                  it("b", function() out("during-b", names()) end)
                  it("c fails", function() make("inner-c"); error("boom") end)
                end)
                local failures = require("ccm.test").run()
                out("failures", failures)
                out("after", names())
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["during-a"] == "inner-a,kept,outer")
            #expect(run.values["during-b"] == "kept,outer")
            #expect(run.values["failures"] == "1")
            #expect(run.values["after"] == "kept")
        }
    }
}
