import Core
import CoreTesting
import Foundation
import Testing

/// How a spec becomes nodes: config merging, custom profiles, and the errors a wrong spec gets.
extension FakeClusters {
    @Suite struct ConfigMergeTests {
        /// A profile whose defaults nest, rendering its config as JSON so the file shows the merge.
        static let profile = """
            local p = { name = "kv", start_order = "parallel" }
            function p.image() return "busybox:latest" end
            p.config = { a = { b = 1, c = 2 }, keep = "x", drop = "y", list = { 1, 2, 3 } }
            function p.node(node, cluster)
              return {
                command = { "serve", node.config.keep or "-" },
                files = { { path = "conf/kv.json", mount = "/etc/kv.json", format = "json", content = node.config } },
              }
            end
            return p
            """

        @Test func specConfigDeepMergesIntoTheProfileDefaultsAndNullRemoves() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "merge", profile = "kv", nodes = 2,
                  config = { a = { c = 3, d = { e = 4 } }, drop = json.null, list = { 9 }, new = { x = json.null, y = 1 } } }
                out("config", c:node(2):config())
                """, modules: ["kv": Self.profile])
            #expect(run.error == nil, "\(run.summary)")
            let expected = #"{"a":{"b":1,"c":3,"d":{"e":4}},"keep":"x","list":[9],"new":{"y":1}}"#
            #expect(run.values["config"] == expected)
            #expect(run.file("merge", "node1", "conf/kv.json") == expected + "\n")
            #expect(run.file("merge", "node2", "conf/kv.json") == expected + "\n")
        }

        @Test func setConfigMergesAgainRewritesTheFileInPlaceAndConfigShowsIt() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "reconf", profile = "kv", config = { a = { d = 4 } } }
                local n = c:node(1)
                local before = inode("reconf/node1/conf/kv.json")
                c:start { wait = false }
                n:set_config { a = { b = json.null, c = 5 }, keep = "z", extra = true }
                out("inode same", inode("reconf/node1/conf/kv.json") == before)
                out("file", read_state("reconf/node1/conf/kv.json"))
                out("config", n:config())
                out("state", n:state())
                n:set_config { extra = json.null }
                out("config2", n:config())
                local ok, err = pcall(function() n:set_config("keep=1") end)
                out("bad", tostring(err)); out("bad kind", err.kind)
                """, modules: ["kv": Self.profile])
            #expect(run.error == nil, "\(run.summary)")
            let merged = #"{"a":{"c":5,"d":4},"drop":"y","extra":true,"keep":"z","list":[1,2,3]}"#
            #expect(run.values["config"] == merged)
            #expect(run.values["file"] == merged + "\n")
            #expect(run.values["inode same"] == "true", "a bind-mounted file must keep its inode")
            #expect(run.values["state"] == "running", "set_config on a running node does not restart it")
            #expect(run.values["config2"] == #"{"a":{"c":5,"d":4},"drop":"y","keep":"z","list":[1,2,3]}"#)
            #expect(run.values["bad kind"] == "usage")
            #expect(run.values["bad"] == run.at(12) + "bad argument #1 to 'set_config' (table expected, got string)")
        }

        @Test func aRunningNodeWhoseCommandChangedGetsANewContainerAtItsNextStart() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "later", profile = "kv" }
                local n = c:node(1)
                c:start { wait = false }
                n:set_config { keep = "changed" }
                n:stop()
                n:start { wait = false }
                out("state", n:state())
                """, modules: ["kv": Self.profile])
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.container("later", "node1")?.command == ["serve", "changed"])
            #expect(run.fake.calls("createContainer").count == 2, "\(run.fake.calls("createContainer"))")
            #expect(run.values["state"] == "running")
        }

        @Test func setConfigOnAStoppedNodeRecreatesItWhenTheCommandChanges() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "recreate", profile = "kv" }
                c:node(1):set_config { keep = "changed" }
                """, modules: ["kv": Self.profile])
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.container("recreate", "node1")?.command == ["serve", "changed"])
            #expect(run.fake.calls("createContainer").count == 2)
        }

        @Test func scyllaYamlTakesSpecConfigAndNullDeletesADefault() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "sy", config = {
                  num_tokens = 16, view_hints_directory = json.null, experimental_features = { "udf", "tablets" },
                  seed_provider = json.null, enable_user_defined_functions = true } }
                out("tokens", c:node(1):config().num_tokens)
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["tokens"] == "16")
            let yaml = try #require(run.file("sy", "node1", "conf/scylla.yaml"))
            #expect(yaml.contains("num_tokens: 16\n"))
            #expect(!yaml.contains("view_hints_directory"))
            #expect(!yaml.contains("seed_provider"))
            #expect(yaml.contains("experimental_features:\n- udf\n- tablets\n"), "\(yaml)")
            #expect(yaml.contains("enable_user_defined_functions: true\n"))
        }
    }

    @Suite struct CustomProfileTests {
        @Test func aProfileTableWorksAndItsMethodsBecomeNodeMethods() async throws {
            let run = try await runCluster("""
                local redis = { name = "redis", spec_fields = { maxmemory = "string" } }
                function redis.image(spec) return "busybox:latest" end
                function redis.node(node, cluster)
                  return { command = { "redis-server", "--maxmemory", cluster.spec.maxmemory or "0" },
                           env = { ROLE = node.index == 1 and "primary" or "replica" } }
                end
                redis.methods = {
                  cli = function(n, ...) return n:run({ "redis-cli", ... }) end,
                  hello = function(n, who) return n.name .. " greets " .. who end,
                }
                local c = cluster.create { name = "rd", profile = redis, nodes = 2, maxmemory = "64mb" }
                c:start { wait = false }
                out("hello", c:node(2):hello("you"))
                out("pong", c:node(1):cli("PING"))
                out("profile", c.profile)
                out("missing", tostring(c:node(1).nosuch))
                """, prepare: { $0.scriptExec(["redis-cli", "PING"], .result(code: 0, stdout: "PONG\n")) })
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["hello"] == "node2 greets you")
            #expect(run.values["pong"] == "PONG\n")
            #expect(run.values["profile"] == "redis")
            #expect(run.values["missing"] == "nil")
            #expect(run.container("rd", "node1")?.command == ["redis-server", "--maxmemory", "64mb"])
            #expect(run.container("rd", "node2")?.env == ["ROLE": "replica"])
            #expect(run.execs == [["redis-cli", "PING"]])
        }

        @Test func aProfileNameResolvesThroughRequire() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "mod", profile = "profiles.echo" }
                out("profile", c.profile)
                out("say", c:node(1):say())
                """, modules: ["profiles/echo": """
                    return {
                      name = "echo",
                      image = function() return "busybox:latest" end,
                      node = function(node) return { command = { "echo", node.name } } end,
                      methods = { say = function(n) return "I am " .. n.name end },
                    }
                    """])
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["profile"] == "echo" && run.values["say"] == "I am node1")
            #expect(run.container("mod", "node1")?.command == ["echo", "node1"])
        }
    }
}
