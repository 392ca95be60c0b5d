import Core
import CoreTesting
import Foundation
import Testing

/// A wrong spec gets an error value of the right kind, whose text points at the script's line and
/// says what to change; nothing is left behind.
extension FakeClusters {
    @Suite struct SpecErrorTests {
        struct Case: CustomTestStringConvertible, Sendable {
            var call: String
            var kind: String
            var message: String
            var testDescription: String { call }
        }

        /// Each call is on line 2 of the script; the message must be exactly what the user reads.
        static let badSpecs: [Case] = [
            Case(call: #"cluster.create("three nodes")"#, kind: "usage",
                 message: "cluster.create's argument must be a table, got string"),
            Case(call: #"cluster.create { profile = "mongo" }"#, kind: "usage",
                 message: "unknown profile 'mongo' (built in: scylla, cassandra, etcd, generic; or pass a profile table or module name)"),
            Case(call: #"cluster.create { name = "Bad" }"#, kind: "usage",
                 message: "invalid cluster name 'Bad': use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters"),
            Case(call: #"cluster.create { name = string.rep("a", 41) }"#, kind: "usage",
                 message: "invalid cluster name '\(String(repeating: "a", count: 41))': use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters"),
            Case(call: #"cluster.create { name = "-x" }"#, kind: "usage",
                 message: "invalid cluster name '-x': use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters"),
            Case(call: #"cluster.create { name = "" }"#, kind: "usage",
                 message: "invalid cluster name '': use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters"),
            Case(call: #"cluster.create { hosts = { h1 = "http://box:2375" } }"#, kind: "usage",
                 message: "host h1: 'http://box:2375' is not an engine address; write unix:///var/run/docker.sock, tcp://HOST:2376, ssh://USER@HOST or the name of a Docker context (`docker context ls`)"),
            Case(call: #"cluster.create { hosts = { "unix:///var/run/docker.sock" }, runtime = "podman" }"#, kind: "usage",
                 message: #"spec.hosts are Docker engines joined in one Docker Swarm; leave out spec.runtime = "podman" (or the hosts)"#),
            Case(call: #"cluster.create { hosts = { h1 = "unix:///var/run/docker.sock" }, nodes = { dc1 = 1 }, placement = { dc1 = "h2" } }"#, kind: "usage",
                 message: #"placement.dc1 = "h2": no host named h2 (hosts: h1)"#),
            Case(call: #"cluster.create { nodes = { dc1 = 1 }, placement = { dc1 = "h1" } }"#, kind: "usage",
                 message: #"placement needs hosts: add hosts = {h1 = "unix:///var/run/docker.sock", h2 = "tcp://..."} to the cluster spec"#),
            Case(call: #"cluster.create { hosts = "tcp://box:2375" }"#, kind: "usage", message: "spec.hosts must be a table, got string"),
            Case(call: "cluster.create { nodes = 0 }", kind: "usage", message: "nodes must be a whole number of at least 1, got 0"),
            Case(call: "cluster.create { nodes = -1 }", kind: "usage", message: "nodes must be a whole number of at least 1, got -1"),
            Case(call: "cluster.create { nodes = 1.5 }", kind: "usage", message: "nodes must be a whole number of at least 1, got 1.5"),
            Case(call: "cluster.create { nodes = {} }", kind: "usage",
                 message: "nodes = {} names no datacenter; give a count or {dc1 = 3, dc2 = 2}"),
            Case(call: "cluster.create { nodes = { dc1 = 2, dc2 = 0 } }", kind: "usage",
                 message: "nodes.dc2 must be a whole number of at least 1, got 0"),
            Case(call: "cluster.create { nodes = { dc1 = 1.5 } }", kind: "usage",
                 message: "nodes.dc1 must be a whole number of at least 1, got 1.5"),
            Case(call: "cluster.create { nodes = { 3, 2 } }", kind: "usage",
                 message: "nodes must be a count or a table of datacenter = count (e.g. {dc1 = 3, dc2 = 2}), got a list"),
            Case(call: "cluster.create { nodez = 3 }", kind: "usage",
                 message: "unknown field 'nodez' in the cluster spec (profile scylla; did you mean 'nodes'?)"),
            Case(call: #"cluster.create { profile = "generic", image = "busybox:latest", smp = 2 }"#, kind: "usage",
                 message: "unknown field 'smp' in the cluster spec (profile generic)"),
            Case(call: #"cluster.create { nodes = "3" }"#, kind: "usage", message: "spec.nodes must be a number or table, got string"),
            Case(call: #"cluster.create { env = "A=1" }"#, kind: "usage", message: "spec.env must be a table, got string"),
            Case(call: #"cluster.create { start = "yes" }"#, kind: "usage", message: "spec.start must be a boolean, got string"),
            Case(call: #"cluster.create { cpus = "2" }"#, kind: "usage", message: "spec.cpus must be a number, got string"),
            Case(call: "cluster.create { image = 7 }", kind: "usage", message: "spec.image must be a string, got number"),
            Case(call: "cluster.create { smp = \"2\" }", kind: "usage", message: "spec.smp must be a number, got string"),
            Case(call: "cluster.create { env = { A = {} } }", kind: "usage",
                 message: "spec.env.A must be a string, number or boolean, got table"),
            Case(call: "cluster.create { args = { \"--x\", {} } }", kind: "usage",
                 message: "spec.args[2] must be a string or number, got table"),
            Case(call: #"cluster.create { runtime = "rkt" }"#, kind: "usage", message: "spec.runtime must be \"docker\" or \"podman\""),
            Case(call: #"cluster.create { profile = "generic" }"#, kind: "usage",
                 message: "profile generic needs an image: set spec.image"),
        ]

        @Test(arguments: badSpecs) func badSpecRaisesAtTheScriptLine(_ bad: Case) async throws {
            let run = try await runCluster("-- a spec the user got wrong\n\(bad.call)\n")
            let error = try #require(run.error, "no error: \(run.summary)")
            #expect(error.kind == bad.kind, "\(error)")
            #expect(error.message == bad.message)
            #expect(error.text == run.at(2) + bad.message)
            #expect(run.fake.calls("createContainer").isEmpty && run.fake.calls("createNetwork").isEmpty)
            #expect(run.files.isEmpty, "nothing is left in the state folder: \(run.files.keys.sorted())")
        }

        @Test func unknownNodesNameTheNodesThereAre() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "few", nodes = 2 }
                local ok1, e1 = pcall(function() local n = c:node(9) end)
                local ok2, e2 = pcall(c.node, c, "nodeX")
                out("e1", tostring(e1)); out("k1", e1.kind)
                out("e2", tostring(e2)); out("k2", e2.kind)
                out("ok", tostring(c:node("node2") == c:node(2)))
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["e1"] == run.at(2) + "cluster 'few' has no node 9 (nodes: node1, node2)")
            #expect(run.values["e2"] == run.at(3) + "cluster 'few' has no node nodeX (nodes: node1, node2)")
            #expect(run.values["k1"] == "usage" && run.values["k2"] == "usage")
            #expect(run.values["ok"] == "true")
        }

        @Test func getOfAnUnknownClusterReturnsNilAndAnErrorAtTheScriptLine() async throws {
            let run = try await runCluster("""
                cluster.create { name = "there" }
                local c, err = cluster.get("not-there")
                out("c", tostring(c)); out("kind", err.kind); out("err", tostring(err))
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["c"] == "nil" && run.values["kind"] == "usage")
            #expect(run.values["err"]?.hasPrefix(run.at(2) + "no cluster named 'not-there' in ") == true, "\(run.values["err"] ?? "")")
            #expect(run.values["err"]?.hasSuffix("(clusters there: there)") == true, "\(run.values["err"] ?? "")")
        }

        @Test func anImageThatIsNotThereAndCannotBePulledIsAnImageError() async throws {
            let run = try await runCluster("""
                local ok = true
                cluster.create { name = "noimg", image = "scylladb/scylla:0.0-nope" }
                """, images: [], env: ["CCM_LUA_PULL": "missing"], prepare: { $0.failNext("pullImage", with: .imageNotFound) })
            let error = try #require(run.error, "\(run.summary)")
            #expect(error.kind == "image", "\(error)")
            #expect(error.text.hasPrefix(run.at(2) + "image 'scylladb/scylla:0.0-nope' is not on this machine and could not be pulled"),
                    "\(error.text)")
            #expect(error.message.contains("hint:"), "\(error.message)")
            #expect(run.fake.calls("pullImage").map(\.arguments) == [["scylladb/scylla:0.0-nope"]])
            #expect(run.fake.calls("createNetwork").isEmpty && run.files.isEmpty)
        }

        @Test func withPullingOffAMissingImageIsNeverPulled() async throws {
            let run = try await runCluster("""
                cluster.create { name = "noimg", image = "scylladb/scylla:0.0-nope" }
                """, images: [], env: ["CCM_LUA_PULL": "never"])
            let error = try #require(run.error, "\(run.summary)")
            #expect(error.kind == "image", "\(error)")
            #expect(error.text.hasPrefix(run.at(1) + "image 'scylladb/scylla:0.0-nope' is not on this machine (pulling is off: CCM_LUA_PULL=never)"),
                    "\(error.text)")
            #expect(run.fake.calls("pullImage").isEmpty)
            #expect(run.fake.calls("createNetwork").isEmpty && run.files.isEmpty)
        }

        @Test func aNameThatExistsIsAUsageErrorAndTheExistingClusterStays() async throws {
            let run = try await runCluster("""
                local first = cluster.create { name = "dup" }
                local ok, err = pcall(function() cluster.create { name = "dup", nodes = 3 } end)
                out("err", tostring(err)); out("kind", err.kind)
                out("nodes", #first:nodes())
                out("list", table.concat(cluster.list(), ","))
                """)
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["kind"] == "usage")
            #expect(run.values["err"]?.hasPrefix(run.at(2) + "a cluster named 'dup' exists already") == true, "\(run.values["err"] ?? "")")
            #expect(run.values["list"] == "dup")
            #expect(run.containers.keys.sorted() == ["dup-node1"])
            #expect(run.files["dup/cluster.json"] != nil)
        }

        struct PlanCase: CustomTestStringConvertible, Sendable {
            var plan: String
            var message: String
            var testDescription: String { plan }
        }

        static let badPlans: [PlanCase] = [
            PlanCase(plan: #"{ files = { { path = "/etc/app.conf", content = "x" } } }"#,
                     message: "node1's plan: files[1].path must be a path inside the node folder, like \"conf/app.yaml\""),
            PlanCase(plan: #"{ files = { { path = "../../escape", content = "x" } } }"#,
                     message: "node1's plan: files[1].path must be a path inside the node folder, like \"conf/app.yaml\""),
            PlanCase(plan: #"{ files = { { path = "conf/app.toml", format = "toml", content = {} } } }"#,
                     message: "node1's plan: files[1].format must be one of yaml, properties, json, text"),
            PlanCase(plan: #"{ files = { { path = "conf/a.txt", format = "text", content = { 1 } } } }"#,
                     message: "node1's plan: files[1].content must be renderable as text (a file of format 'text' needs a string as its content)"),
            PlanCase(plan: #"{ command = { "redis-server", {} } }"#, message: "node1's plan: command must be a list of strings"),
            PlanCase(plan: #"{ ready = { log = "([" } }"#, message: "node1's plan: ready.log: "),
            PlanCase(plan: "42", message: "profile 'broken' returned no plan for node1 (node() must return a table)"),
        ]

        @Test(arguments: badPlans) func aBadPlanFromACustomProfileIsAConfigError(_ bad: PlanCase) async throws {
            let run = try await runCluster("""
                local broken = { name = "broken", image = function() return "busybox:latest" end }
                function broken.node() return \(bad.plan) end
                cluster.create { name = "bp", profile = broken }
                """)
            let error = try #require(run.error, "\(run.summary)")
            #expect(error.kind == "config", "\(error)")
            #expect(error.text.hasPrefix(run.at(3) + bad.message), "\(error.text)")
            #expect(run.fake.calls("createContainer").isEmpty && run.files.isEmpty)
        }

        @Test func profilesThatCannotBeUsedSayWhy() async throws {
            let run = try await runCluster("""
                local function try(spec) local ok, err = pcall(function() cluster.create(spec) end); return err end
                local e1 = try { profile = {} }
                local e2 = try { profile = "notaprofile" }
                local e3 = try { profile = "syntaxerror" }
                local e4 = try { profile = { node = function() return {} end, start_order = "random" }, image = "busybox:latest" }
                for i, e in ipairs { e1, e2, e3, e4 } do out("kind" .. i, e.kind); out("text" .. i, tostring(e)) end
                """, modules: ["notaprofile": "return { 1, 2, 3 }", "syntaxerror": "return {"])
            #expect(run.error == nil, "\(run.summary)")
            #expect(run.values["kind1"] == "usage")
            #expect(run.values["text1"] == run.at(1) + "a profile table needs a node(node, cluster) function (see docs/profiles.md)")
            #expect(run.values["kind2"] == "usage")
            #expect(run.values["text2"] == run.at(1) + "module 'notaprofile' is not a profile: it has no node(node, cluster) function (see docs/profiles.md)")
            #expect(run.values["kind3"] == "config")
            #expect(run.values["text3"]?.hasPrefix(run.at(1) + "profile module 'syntaxerror' failed to load: ") == true, "\(run.values["text3"] ?? "")")
            #expect(run.values["text3"]?.contains("syntaxerror.lua:1:") == true, "\(run.values["text3"] ?? "")")
            #expect(run.values["kind4"] == "config")
            #expect(run.values["text4"] == run.at(1) + "profile custom: start_order must be \"parallel\", \"sequential\" or \"one-by-one\"")
        }

        @Test func anUncaughtSpecErrorReportsTheScriptLine() async throws {
            let run = try await runCluster("""
                local c = cluster.create { name = "ok" }
                c:node(3)
                """, uncaught: true)
            #expect(run.outcome.status == 1)
            let report = try #require(run.outcome.report)
            #expect(report.hasPrefix("ccm-lua: " + run.at(2) + "cluster 'ok' has no node 3 (nodes: node1)\nstack traceback:\n"),
                    "\(report)")
        }
    }
}
