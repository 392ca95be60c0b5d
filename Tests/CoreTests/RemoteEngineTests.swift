import Foundation
import Testing
import Core
import CoreTesting

/// An engine on another machine, reached through DOCKER_HOST or a Docker context: where it is
/// found, the plain-TCP warning, and node folders as volumes on it (docs/remote-engines.md).
@Suite struct RemoteEngineTests {
    /// A client config folder with one context, as `docker context create NAME --docker host=HOST` writes it.
    static func contextFolder(_ name: String, host: String, tls: Bool = false, current: Bool = false) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-docker-config-\(UUID().uuidString)")
        let digest = "0123abcd"   // the client names it by a digest of the name; ccm-lua reads the name inside
        let meta = folder.appendingPathComponent("contexts/meta/\(digest)")
        try FileManager.default.createDirectory(at: meta, withIntermediateDirectories: true)
        let json = #"{"Name":"\#(name)","Metadata":{},"Endpoints":{"docker":{"Host":"\#(host)","SkipTLSVerify":false}}}"#
        try Data(json.utf8).write(to: meta.appendingPathComponent("meta.json"))
        if tls {
            let certs = folder.appendingPathComponent("contexts/tls/\(digest)/docker")
            try FileManager.default.createDirectory(at: certs, withIntermediateDirectories: true)
            for file in ["ca.pem", "cert.pem", "key.pem"] { try Data("x".utf8).write(to: certs.appendingPathComponent(file)) }
        }
        if current { try Data(#"{"currentContext":"\#(name)"}"#.utf8).write(to: folder.appendingPathComponent("config.json")) }
        return folder
    }

    @Test func aContextsEngineIsWhereItsHostIsAndItsPortsArePublishedThere() throws {
        let folder = try Self.contextFolder("far", host: "tcp://10.9.8.7:2375")
        defer { try? FileManager.default.removeItem(at: folder) }
        let location = EngineLocation.of(engine: .docker, environment: ["DOCKER_CONFIG": folder.path, "DOCKER_CONTEXT": "far"])
        #expect(location.isRemote)
        #expect(location.publishedHost == "10.9.8.7")
        #expect(location.detail == "Docker context far (tcp://10.9.8.7:2375)")
        #expect(location.plainTCPAddress == "tcp://10.9.8.7:2375")
        // DOCKER_HOST wins over a context, as it does for the client.
        let host = EngineLocation.of(engine: .docker, environment: ["DOCKER_CONFIG": folder.path, "DOCKER_CONTEXT": "far",
                                                                     "DOCKER_HOST": "tcp://other:2376"])
        #expect(host.publishedHost == "other")
    }

    @Test func theContextChosenWithDockerContextUseCountsToo() throws {
        let folder = try Self.contextFolder("far", host: "ssh://me@build-box", current: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let location = EngineLocation.of(engine: .docker, environment: ["DOCKER_CONFIG": folder.path])
        #expect(location.isRemote && location.publishedHost == "build-box")
        #expect(location.plainTCPAddress == nil, "ssh:// is not plain TCP")
        #expect(NetworkNamespace.nsenterProblem(engine: .docker, environment: ["DOCKER_CONFIG": folder.path])?.contains("remote") == true
                || geteuid() != 0)
        #expect(try NetworkNamespace.choose(engine: .docker, environment: ["DOCKER_CONFIG": folder.path]) == .container)
        // "default" is the local engine.
        let local = EngineLocation.of(engine: .docker, environment: ["DOCKER_CONFIG": folder.path, "DOCKER_CONTEXT": "default"])
        #expect(local == .localRootful)
    }

    @Test func aContextOnALocalSocketIsLocalAndAnUnknownOneIsTakenForRemote() throws {
        let folder = try Self.contextFolder("here", host: "unix:///var/run/docker.sock")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(EngineLocation.of(engine: .docker, environment: ["DOCKER_CONFIG": folder.path, "DOCKER_CONTEXT": "here"]) == .localRootful)
        let unknown = EngineLocation.of(engine: .docker, environment: ["DOCKER_CONFIG": folder.path, "DOCKER_CONTEXT": "nosuch"])
        #expect(unknown.isRemote && unknown.detail?.contains("not found") == true, "\(unknown)")
    }

    @Test func plainTCPIsTCPWithoutVerifiedTLS() throws {
        #expect(EngineLocation.isPlainTCP("tcp://h:2375", verifiesTLS: false))
        #expect(!EngineLocation.isPlainTCP("tcp://h:2376", verifiesTLS: true))
        #expect(!EngineLocation.isPlainTCP("ssh://me@h", verifiesTLS: false))
        #expect(!EngineLocation.isPlainTCP("unix:///var/run/docker.sock", verifiesTLS: false))

        let certs = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: certs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: certs) }
        for file in ["ca.pem", "cert.pem", "key.pem"] { try Data("x".utf8).write(to: certs.appendingPathComponent(file)) }
        let plain = EngineLocation.of(engine: .docker, environment: ["DOCKER_HOST": "tcp://h:2375"])
        #expect(plain.plainTCPAddress == "tcp://h:2375")
        #expect(plain.plainTCPWarning?.contains("root on its host") == true)
        #expect(plain.plainTCPWarning?.contains("ssh://") == true)
        let verified = EngineLocation.of(engine: .docker, environment: ["DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1",
                                                                         "DOCKER_CERT_PATH": certs.path])
        #expect(verified.isRemote && verified.plainTCPAddress == nil)
        // Asking for verification without the certificates does not protect anything.
        let noCerts = EngineLocation.of(engine: .docker, environment: ["DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1",
                                                                        "DOCKER_CERT_PATH": certs.path + "/none"])
        #expect(noCerts.plainTCPAddress != nil)
        let context = try Self.contextFolder("tls", host: "tcp://h:2376", tls: true)
        defer { try? FileManager.default.removeItem(at: context) }
        #expect(EngineLocation.of(engine: .docker, environment: ["DOCKER_CONFIG": context.path, "DOCKER_CONTEXT": "tls"]).plainTCPAddress == nil)
        // Podman's remote client has no TLS.
        #expect(EngineLocation.of(engine: .podman, environment: ["CONTAINER_HOST": "tcp://h:8888"], userID: 0).plainTCPAddress == "tcp://h:8888")
    }

    @Test func theWarningIsSaidOncePerAddress() {
        let address = "tcp://once-\(UUID().uuidString.prefix(8)):2375"
        let location = EngineLocation.of(engine: .docker, environment: ["DOCKER_HOST": address])
        var said: [String] = []
        #expect(PlainTCPWarning.sayOnce(location) { said.append($0) })
        #expect(!PlainTCPWarning.sayOnce(location) { said.append($0) })
        #expect(said.count == 1 && said[0].contains(address))
        #expect(!PlainTCPWarning.sayOnce(.localRootful) { said.append($0) })
    }

    @Test func aMissingImageOnARemoteEngineSaysWhereAndHowToCopyItThere() async throws {
        let fake = FakeContainerRuntime(location: EngineLocation.of(engine: .docker, environment: ["DOCKER_HOST": "tcp://far:2375"]))
        let error = try await #require(throws: RuntimeError.self) { try await ImagePolicy.ensure("app:1", policy: .never, runtime: fake) }
        #expect(error.summary.contains("not on the engine at DOCKER_HOST=tcp://far:2375"), "\(error.summary)")
        #expect(error.hint?.contains("DOCKER_HOST= DOCKER_CONTEXT=default docker save app:1 | docker -H tcp://far:2375 load") == true, "\(String(describing: error.hint))")
        let local = try await #require(throws: RuntimeError.self) { try await ImagePolicy.ensure("app:1", policy: .never, runtime: FakeContainerRuntime()) }
        #expect(local.summary.contains("not on this machine") && local.hint?.contains("save") == false, "\(local)")
        let context = EngineLocation(isRemote: true, detail: "Docker context far (tcp://far:2375)")
        #expect(context.copyCommand(image: "x", engine: .docker).hasSuffix("| docker --context far load"))
    }

    // MARK: Node folders on a remote engine

    static let remote = EngineLocation(isRemote: true, publishedHost: "far", detail: "DOCKER_HOST=tcp://far:2375")

    static func folderPlan() -> NodePlan {
        var plan = NodePlan(image: "img:1")
        plan.directories = [NodeDirectory(path: "data", containerPath: "/var/lib/db")]
        plan.files = [NodeFile(path: "conf/db.conf", containerPath: "/etc/db.conf", content: "a = 1\n"),
                      NodeFile(path: "notes.txt", containerPath: nil, content: "here only\n")]
        return plan
    }

    @Test func onARemoteEngineFoldersAreLabelledVolumesThereAndFilesAreCopiedIn() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"], location: Self.remote)
        let store = StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-remote-\(UUID().uuidString)"))
        defer { try? FileManager.default.removeItem(at: store.home) }
        let spec = ClusterSpec(name: "far", profile: "generic", image: "img:1",
                               nodes: [NodeSpec(name: "node1", index: 1, plan: Self.folderPlan())])
        let cluster = try await Cluster.create(spec, runtime: fake, store: store)
        let container = try await cluster.node("node1").container
        let volume = NodeFolders.volumeName(cluster: "far", node: "node1", directory: "data")
        #expect(volume == "ccm-lua-far-node1-data")
        #expect(fake.volumeNames == [volume])
        #expect(try await fake.listVolumes(labels: [Labels.cluster: "far", Labels.node: "node1", Labels.run: Labels.runID]) == [volume])
        // No path of this machine is mounted on the remote engine.
        #expect(fake.container(container)?.spec.mounts == [Mount(hostPath: volume, containerPath: "/var/lib/db")])
        #expect(try await fake.copyOut(container, from: "/etc/db.conf") == Array("a = 1\n".utf8))
        #expect(!FileManager.default.fileExists(atPath: store.nodeDirectory("far", "node1").appendingPathComponent("data").path))

        // A new configuration reaches the container, which has a copy, not the file.
        var changed = Self.folderPlan()
        changed.files[0].content = "a = 2\n"
        try await cluster.update(node: "node1", plan: changed, config: .map([]))
        #expect(try await fake.copyOut(container, from: "/etc/db.conf") == Array("a = 2\n".utf8))

        try await cluster.remove()
        #expect(fake.volumeNames.isEmpty, "the folder's volume outlived the cluster")
        #expect(fake.containerNames.isEmpty && fake.networkNames.isEmpty)
    }

    @Test func aLocalEngineStillBindMountsTheNodesFolder() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let store = StateStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("ccm-local-\(UUID().uuidString)"))
        defer { try? FileManager.default.removeItem(at: store.home) }
        let cluster = try await Cluster.create(ClusterSpec(name: "near", profile: "generic", image: "img:1",
                                                           nodes: [NodeSpec(name: "node1", index: 1, plan: Self.folderPlan())]),
                                               runtime: fake, store: store)
        let dir = store.nodeDirectory("near", "node1")
        let container = try await cluster.node("node1").container
        #expect(fake.container(container)?.spec.mounts.map(\.hostPath) == [dir.appendingPathComponent("conf/db.conf").path,
                                                                              dir.appendingPathComponent("data").path])
        #expect(fake.volumeNames.isEmpty && fake.calls("copyIn").isEmpty)
        try await cluster.remove()
    }
}
