import Foundation
import Testing
import Core

/// Node folders on the host: files a container wrote as another user never block `remove`.
@Suite(.serialized) struct NodeFolderTests {
    @Test(arguments: Engine.allCases)
    func removeSucceedsOnFilesAContainerWroteAsUid1000(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.baseImage])
        let name = "dirs-\(Labels.runID.prefix(6))-\(engine.rawValue.prefix(1))"
        try await CCMCommandTests.withHome(runtime, cluster: name) { home in
            // The node mounts <node>/data at /data; root opens it up, then uid 1000 writes a folder
            // it cannot even write into itself afterwards.
            let script = """
                local c = cluster.create{name = "\(name)", runtime = "\(engine.rawValue)", image = "\(Integration.baseImage)", keep = true,
                  profile = {name = "uid", node = function() return {command = {"sleep", "1000"}, directories = {data = "/data"}} end}}
                c:start()
                local n = c:node(1)
                n:run({"chmod", "777", "/data"}, {user = "0"})
                n:run("mkdir -p /data/d/e && echo x > /data/d/e/f && chmod 500 /data/d /data/d/e", {user = "1000"})
                print(n:run({"stat", "-c", "%u", "/data/d/e/f"}))
                """
            let written = try CCMCommandTests.ok(["-e", script], home)
            #expect(written.trimmingCharacters(in: .whitespacesAndNewlines) == "1000", "\(written)")
            // Rootless, uid 1000 is a sub-uid on the host, and this user may not even look into
            // d/ (mode 500): its owner is checked on d itself.
            let folder = home.appendingPathComponent(name).appendingPathComponent(Integration.isRootless ? "node1/data/d" : "node1/data/d/e/f")
            let owner = try FileManager.default.attributesOfItem(atPath: folder.path)[.ownerAccountID] as? NSNumber
            #expect(owner?.intValue == Int(Integration.hostID(1000)), "\(folder.lastPathComponent) on the host belongs to \(String(describing: owner))")

            let removed = try Binary.run(["remove", name], home: home)
            #expect(removed.status == 0, "\(removed.stderr)")
            #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(name).path))
        }
    }
}
