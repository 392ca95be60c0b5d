import Foundation
import Testing
import Core

/// Images from Lua and from the `ccm-lua image` command, and the image each node ran, pinned in
/// the run record: on both engines, through the built binary, as a user runs it.
@Suite(.serialized) struct ImageTests {
    static func name(_ what: String, _ engine: Engine) -> String {
        "img-\(Labels.runID.prefix(6))-\(what)-\(engine.rawValue.prefix(1))"
    }

    /// Removes the test's image and clusters afterwards, whether it passed or not.
    static func withCleanup(_ runtime: CLIContainerRuntime, clusters: [String], images: [String],
                            _ body: (Scenario) async throws -> Void) async throws {
        let scenario = try Scenario(engine: runtime.engine)
        var failure: (any Error)?
        do { try await body(scenario) } catch { failure = error }
        defer { try? FileManager.default.removeItem(at: scenario.home.deletingLastPathComponent()) }
        for name in clusters {
            let left = try await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: runtime)
            if failure == nil { #expect(left.isEmpty, "left behind by the test: \(left)") }
        }
        for image in images { try await runtime.removeImage(image) }
        for image in images { #expect(try await !runtime.imageExists(image), "image \(image) left behind") }
        if let failure { throw failure }
    }

    @Test(arguments: Engine.allCases)
    func aClusterOnAnImageBuiltFromLuaRecordsThatImagesId(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let cluster = Self.name("pin", engine)
        let tag = "ccm-lua-test/pinned-\(Labels.runID.prefix(6).lowercased()):\(engine.rawValue)"
        try await Self.withCleanup(runtime, clusters: [cluster], images: [tag]) { scenario in
            let home = scenario.home
            try scenario.write("ctx/Dockerfile", "FROM \(Integration.etcdImage)\nLABEL ccm-lua.test=pinned\n")
            let script = try scenario.write("pin.lua", """
                local id, log_file = image.build{context = "ctx", tag = "\(tag)", args = {UNUSED = "1"}}
                local info = image.inspect("\(tag)")
                assert(info.id == id, "inspect id " .. tostring(info.id) .. " ~= built id " .. tostring(id))
                assert(info.labels["ccm-lua.test"] == "pinned", "label missing")
                assert(info.labels["ccm-lua.built"] == "1", "ccm-lua's label missing")
                assert(type(info.size) == "number" and info.size > 0 and type(info.created) == "string")
                assert(image.exists("\(tag)") and not image.exists("ccm-lua-test/never-built:0"))
                local f = assert(io.open(log_file)); local text = f:read("a"); f:close()
                assert(#text > 0, "the build log is empty")
                local c = cluster.create{profile = "etcd", image = "\(tag)", nodes = 2, name = "\(cluster)", keep = true}
                c:start()
                local images = c:images()
                for _, n in ipairs{"node1", "node2"} do
                  assert(images[n].ref == "\(tag)", n .. " ref " .. tostring(images[n].ref))
                  assert(images[n].id == id, n .. " id " .. tostring(images[n].id))
                end
                print("built " .. id)
                print("digest " .. tostring(images.node1.digest))
                """)
            let result = try scenario.run([script])
            try #require(result.status == 0, "stderr:\n\(result.stderr)")
            let id = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("built ") }?.dropFirst(6))
            #expect(id.hasPrefix("sha256:") && id.count == 71, "\(id)")
            #expect(id == (try await runtime.inspectImage(tag)).id)

            let status = try Binary.run(["status", "-v", cluster], home: home)
            #expect(status.status == 0, "\(status.stderr)")
            let rows = status.stdout.split(separator: "\n").filter { $0.hasPrefix("node") }
            #expect(rows.count == 2 && rows.allSatisfy { $0.contains(String(id)) }, "\(status.stdout)")
            #expect(status.stdout.contains("IMAGE ID"), "\(status.stdout)")
            if engine == .podman {   // Podman knows a digest for every image; Docker only for pulled ones
                let digest = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("digest sha256:") }?.dropFirst(7),
                                          "\(result.stdout)")
                #expect(rows.allSatisfy { $0.contains(String(digest)) }, "\(status.stdout)")
            }

            let listed = try Binary.run(["image", "ls", "--runtime", engine.rawValue], home: home)
            #expect(listed.status == 0, "\(listed.stderr)")
            let line = listed.stdout.split(separator: "\n").first { $0.contains(String(id.dropFirst(7).prefix(12))) }
            #expect(line?.contains("built, cluster \(cluster)") == true, "\(listed.stdout)")
            let refused = try Binary.run(["image", "rm", "--runtime", engine.rawValue, tag], home: home)
            #expect(refused.status == 1 && refused.stderr.contains("is run by \(cluster)"), "\(refused.stderr)")

            let removed = try Binary.run(["rm", cluster], home: home)
            #expect(removed.status == 0, "\(removed.stderr)")
            let gone = try Binary.run(["image", "rm", "--runtime", engine.rawValue, tag], home: home)
            #expect(gone.status == 0 && gone.stdout.contains("removed \(tag)"), "\(gone.stdout)\(gone.stderr)")
        }
    }

    @Test(arguments: Engine.allCases)
    func aMissingImageIsAnImageErrorBeforeAnythingIsCreated(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let cluster = Self.name("miss", engine)
        try await Self.withCleanup(runtime, clusters: [cluster], images: []) { scenario in
            let home = scenario.home
            // pull = "missing" overrides CCM_LUA_PULL=never: a pull is tried and fails (no registry here).
            let script = try scenario.write("missing.lua", """
                local ok, err = pcall(cluster.create, {profile = "etcd", image = "ccm-lua-test/absent:0", name = "\(cluster)",
                                                       pull = "never"})
                print(err.kind .. ": " .. err.message)
                """)
            let result = try scenario.run([script])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("image: image 'ccm-lua-test/absent:0' is not on this machine (pulling is off: pull = \"never\")"),
                    "\(result.stdout)")
            #expect(result.stdout.contains("ccm-lua image build"), "no advice in: \(result.stdout)")
            #expect(try await runtime.listNetworks(labels: [Labels.cluster: cluster]).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(cluster).path))
        }
    }
}
