import Foundation
import Testing
@testable import Core

/// The Engine API runtime without an engine: the frame decoder, the JSON it sends, the errors it
/// maps from recorded answers, the choice of socket, and whole exchanges with a fake socket.
@Suite struct EngineAPITests {
    static func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        return [stream, 0, 0, 0] + withUnsafeBytes(of: UInt32(bytes.count).bigEndian, Array.init) + bytes
    }

    // MARK: Frames

    @Test func framesSplitAnywhereAreReassembled() throws {
        let stream = Self.frame(1, "out 1\n") + Self.frame(2, "err\n") + Self.frame(1, "") + Self.frame(1, "out 2\n")
        for size in [1, 3, 7, 8, 9, stream.count] {
            var frames = EngineStreamFrames()
            var offset = 0
            while offset < stream.count {
                try frames.feed(stream[offset..<min(offset + size, stream.count)])
                offset += size
            }
            try frames.finish()
            #expect(String(decoding: frames.stdout, as: UTF8.self) == "out 1\nout 2\n", "pieces of \(size)")
            #expect(String(decoding: frames.stderr, as: UTF8.self) == "err\n", "pieces of \(size)")
        }
    }

    @Test func aStreamCutInAFrameOrWithABadHeaderIsAnError() throws {
        var cut = EngineStreamFrames()
        try cut.feed(Self.frame(1, "hello").dropLast(2))
        #expect(throws: EngineStreamFrames.Malformed.self) { try cut.finish() }
        var bad = EngineStreamFrames()
        #expect(throws: EngineStreamFrames.Malformed.self) { try bad.feed(Array("HTTP/1.1 200 OK\r\n".utf8)) }
    }

    @Test func recordedFailedExecOutputIsSplitByStream() throws {
        var docker = EngineStreamFrames()
        try docker.feed(try Fixtures.bytes("engine-api/docker-exec-no-binary.frames"))
        #expect(String(decoding: docker.stdout, as: UTF8.self).hasPrefix("OCI runtime exec failed"))
        var podman = EngineStreamFrames()
        try podman.feed(try Fixtures.bytes("engine-api/podman-exec-no-binary.frames"))
        #expect(podman.stdout.isEmpty)
        #expect(String(decoding: podman.stderr, as: UTF8.self).hasPrefix("Error: runc: exec failed"))
        // The same rule as the client's decides that the engine, not the program, failed.
        #expect(EngineErrorClassifier.isEngineExecFailure(engine: .docker, exitCode: 126, stderr: "",
                                                          stdout: String(decoding: docker.stdout, as: UTF8.self)))
        #expect(EngineErrorClassifier.isEngineExecFailure(engine: .podman, exitCode: 127,
                                                          stderr: String(decoding: podman.stderr, as: UTF8.self), stdout: ""))
    }

    // MARK: JSON sent

    @Test func execConfigCarriesEverythingTheClientPasses() throws {
        var request = ExecRequest(argv: ["sh", "-c", "cat"])
        request.env = ["B": "2", "A": "1"]
        request.user = "nobody"
        request.workdir = "/var"
        request.stdin = [1]
        let config = EngineAPIRuntime.ExecConfig(request, marker: "m-1")
        #expect(config.Env == ["A=1", "B=2", "CCM_LUA_EXEC_ID=m-1"])
        #expect(config.AttachStdin && config.AttachStdout && config.AttachStderr && !config.Tty)
        #expect(config.Cmd == ["sh", "-c", "cat"] && config.User == "nobody" && config.WorkingDir == "/var")
        let plain = EngineAPIRuntime.ExecConfig(ExecRequest(argv: ["true"]), marker: nil)
        #expect(!plain.AttachStdin && plain.Env.isEmpty && plain.User == nil)
    }

    @Test func createBodySaysWhatTheClientArgumentsSay() throws {
        var spec = ContainerSpec(name: "c1", image: "etcd:3.4")
        spec.labels = ["ccm-lua.cluster": "x"]
        spec.env = ["Z": "1", "A": "2"]
        spec.command = ["--flag"]
        spec.entrypoint = ["etcd"]
        spec.mounts = [Mount(hostPath: "/h", containerPath: "/c", readOnly: true), Mount(hostPath: "vol", containerPath: "/v")]
        spec.network = "net"
        spec.networkAliases = ["node1"]
        spec.hostname = "node1"
        spec.capAdd = ["NET_ADMIN"]
        spec.cpus = 1.5
        spec.memory = "512m"
        spec.ports = [PortMapping(containerPort: 2379), PortMapping(hostPort: 8080, containerPort: 80, proto: "udp", hostIP: "0.0.0.0")]
        spec.user = "1000"
        spec.workdir = "/w"
        let body = try #require(ContainerCreateBody(spec, image: "localhost/etcd:3.4", engine: .podman))
        let json = String(decoding: EngineAPICaller.json(body), as: UTF8.self)
        #expect(json == #"{"Cmd":["--flag"],"Entrypoint":["etcd"],"Env":["A=2","Z=1"],"ExposedPorts":{"2379\/tcp":{},"80\/udp":{}},"#
                + #""HostConfig":{"Binds":["\/h:\/c:ro","vol:\/v"],"CapAdd":["NET_ADMIN"],"Memory":536870912,"NanoCpus":1500000000,"NetworkMode":"net","#
                + #""PortBindings":{"2379\/tcp":[{"HostIp":"127.0.0.1","HostPort":""}],"80\/udp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}},"#
                + #""Hostname":"node1","Image":"localhost\/etcd:3.4","Labels":{"ccm-lua.cluster":"x"},"#
                + #""NetworkingConfig":{"EndpointsConfig":{"net":{"Aliases":["node1"]}}},"User":"1000","WorkingDir":"\/w"}"#)

        // An entrypoint without a command clears the image's CMD, as `--entrypoint` does.
        var bare = ContainerSpec(name: "c2", image: "i")
        bare.entrypoint = ["sh"]
        #expect(ContainerCreateBody(bare, image: "i", engine: .podman)?.Cmd == [])
    }

    @Test(arguments: [("512m", Int64(512 << 20)), ("2g", Int64(2 << 30)), ("1024", Int64(1024)), ("64MB", Int64(64 << 20)),
                      ("1.5g", Int64(1.5 * Double(1 << 30))), ("12zz", nil), ("", nil), ("-1m", nil)])
    func memorySizes(text: String, bytes: Int64?) {
        #expect(ContainerCreateBody.bytes(text) == bytes)
    }

    @Test func aMemorySizeTheMappingCannotSayGoesThroughTheClient() {
        var spec = ContainerSpec(name: "c", image: "i")
        spec.memory = "12zz"
        #expect(ContainerCreateBody(spec, image: "i", engine: .podman) == nil)
    }

    /// A fault helper joins its node's namespace: Podman's API refused the mapping's body for it
    /// ("networks and static ip/mac address can only be used with Bridge mode networking").
    @Test func aContainerJoiningAnothersNamespaceGoesThroughTheClient() {
        var spec = ContainerSpec(name: "helper", image: "i")
        spec.network = "container:abc123"
        #expect(ContainerCreateBody(spec, image: "i", engine: .podman) == nil)
    }

    // MARK: Errors

    /// Each recorded API error gives the kind and summary the client gives for the same failure.
    @Test(arguments: [
        (Engine.docker, "docker-404-container.json", 404, "container-not-found", EngineErrorClassifier.Subject.container("fx-nosuch")),
        (.podman, "podman-404-container.json", 404, "container-not-found", .container("fx-nosuch")),
        (.docker, "docker-409-exec-stopped.json", 409, "exec-stopped", .exec("fx-exited")),
        (.podman, "podman-500-exec-stopped.json", 500, "exec-stopped", .exec("fx-exited")),
    ])
    func apiErrorsMatchTheClients(engine: Engine, fixture: String, status: Int, cliFixture: String,
                                  subject: EngineErrorClassifier.Subject) throws {
        let body = try Fixtures.bytes("engine-api/\(fixture)")
        let api = EngineAPICaller.error(engine: engine, status: status, body: body, command: ["curl", "x"], subject: subject)
        let recorded = try Fixtures.failure(engine, cliFixture)
        let cli = EngineErrorClassifier.classify(engine: engine, command: recorded.command, exitCode: recorded.exitCode,
                                                 stderr: recorded.stderr, stdout: recorded.stdout, subject: subject)
        #expect(api.kind == cli.kind)
        #expect(api.kind != .commandFailed)
        if case .container = subject {
            // The name in the summary is the subject's in both.
            #expect(api.summary == cli.summary)
        }
        #expect(api.hint == cli.hint)
        #expect(api.stderr.hasPrefix("HTTP \(status): "))
        #expect(api.command == ["curl", "x"])
    }

    @Test(arguments: [(Engine.docker, "docker-404-image.json"), (.podman, "podman-404-image.json")])
    func missingImageAnswers(engine: Engine, fixture: String) throws {
        let error = EngineAPICaller.error(engine: engine, status: 404, body: try Fixtures.bytes("engine-api/\(fixture)"),
                                          command: ["curl"], subject: .image("nosuch/image:1"))
        #expect(error.kind == .imageNotFound)
        #expect(error.summary.contains("nosuch/image:1"))
    }

    @Test func nameConflictAnswer() throws {
        let error = EngineAPICaller.error(engine: .docker, status: 409, body: try Fixtures.bytes("engine-api/docker-409-name-conflict.json"),
                                          command: ["curl"], subject: .container("apitest"))
        #expect(error.kind == .nameConflict)
    }

    // MARK: Choice

    @Test func whereTheSocketIs() {
        func plan(_ engine: Engine, _ env: [String: String], executable: String? = nil, global: [String] = [], uid: uid_t = 0) -> EngineAPIPlan {
            EngineAPIPlan.of(engine: engine, executable: executable ?? engine.rawValue, globalArguments: global,
                             environment: env.merging(["HOME": "/nonexistent"]) { a, _ in a }, userID: uid)
        }
        #expect(plan(.docker, [:]) == .socket(path: "/var/run/docker.sock", startsService: false))
        #expect(plan(.docker, ["DOCKER_HOST": "unix:///run/user/1000/docker.sock"]) == .socket(path: "/run/user/1000/docker.sock", startsService: false))
        #expect(plan(.docker, ["DOCKER_HOST": "tcp://h:2376"]) == .client(reason: "DOCKER_HOST=tcp://h:2376 is not a local socket"))
        #expect(plan(.docker, ["DOCKER_HOST": "ssh://u@h"]) == .client(reason: "DOCKER_HOST=ssh://u@h is not a local socket"))
        #expect(plan(.docker, ["DOCKER_CONTEXT": "remote"]) == .client(reason: "DOCKER_CONTEXT=remote chooses a context"))
        #expect(plan(.docker, ["DOCKER_CONTEXT": "default"]) == .socket(path: "/var/run/docker.sock", startsService: false))
        #expect(plan(.podman, [:]) == .socket(path: "/run/podman/podman.sock", startsService: true))
        #expect(plan(.podman, ["XDG_RUNTIME_DIR": "/run/user/1000"], uid: 1000) == .socket(path: "/run/user/1000/podman/podman.sock", startsService: true))
        #expect(plan(.podman, ["CONTAINER_HOST": "ssh://h"]) == .client(reason: "CONTAINER_HOST=ssh://h steers the client"))
        if case .client = plan(.podman, [:], executable: "/opt/podman-remote") {} else { Issue.record("podman-remote must use the client") }
        if case .client = plan(.podman, [:], global: ["--remote"]) {} else { Issue.record("--remote must use the client") }
    }

    /// The shared Podman service outlives the process that starts it: it must not keep that
    /// process's HOME, TMPDIR or configuration (a test's folders, removed after, broke it).
    @Test func theSharedServiceStartsWithANeutralEnvironment() {
        let inherited = ["PATH": "/usr/bin:/bin", "HOME": "/tmp/test-home", "TMPDIR": "/tmp/test-tmp",
                         "CONTAINERS_CONF": "/tmp/x.conf", "XDG_RUNTIME_DIR": "/run/user/1000"]
        let environment = EngineAPISocket.serviceEnvironment([:], inherited: inherited)
        #expect(Set(environment.keys) == ["PATH", "HOME", "XDG_RUNTIME_DIR"])
        #expect(environment["PATH"] == "/usr/bin:/bin" && environment["XDG_RUNTIME_DIR"] == "/run/user/1000")
        #expect(environment["HOME"] == getpwuid(geteuid()).map { String(cString: $0.pointee.pw_dir) })
    }

    @Test func aDockerContextInUseMeansTheClient() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-docker-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"{"currentContext": "swarm-manager"}"#.utf8).write(to: folder.appendingPathComponent("config.json"))
        #expect(EngineAPIPlan.of(engine: .docker, executable: "docker", globalArguments: [], environment: ["DOCKER_CONFIG": folder.path])
                == .client(reason: "the Docker context 'swarm-manager' is in use (docker context use)"))
    }

    @Test func modeVariable() throws {
        #expect(try EngineAPIMode.from([:]) == .auto)
        #expect(try EngineAPIMode.from([EngineAPIMode.variable: "OFF"]) == .off)
        let error = try #require(throws: RuntimeError.self) { try EngineAPIMode.from([EngineAPIMode.variable: "yes"]) }
        #expect(error.kind == .invalidArgument)
        #expect(error.hint?.contains("auto") == true)
        // off: the client alone; a remote engine under auto: the client alone; under on: an error.
        #expect(try EngineAPIRuntime.choose(cli: CLIContainerRuntime(engine: .docker), environment: [EngineAPIMode.variable: "off"]) is CLIContainerRuntime)
        let remote = CLIContainerRuntime(engine: .docker, environment: ["DOCKER_HOST": "tcp://10.0.0.1:2376"])
        #expect(try EngineAPIRuntime.choose(cli: remote, environment: [:]) is CLIContainerRuntime)
        let onError = try #require(throws: RuntimeError.self) { try EngineAPIRuntime.choose(cli: remote, environment: [EngineAPIMode.variable: "on"]) }
        #expect(onError.summary.contains("DOCKER_HOST=tcp://10.0.0.1:2376"))
        #expect(onError.hint?.contains("CCM_LUA_ENGINE_API=auto") == true)
    }

    // MARK: Whole exchanges with a fake socket

    /// A client runtime whose client is missing: a call that falls back to it fails with `.runtimeNotFound`.
    static func runtime(_ socket: FakeEngineSocket, required: Bool = false) -> EngineAPIRuntime {
        let cli = CLIContainerRuntime(engine: .docker, executable: "/nonexistent/docker")
        return EngineAPIRuntime(cli: cli, socket: EngineAPISocket(engine: .docker, path: socket.socketPath, startsService: false,
                                                                  executable: "/nonexistent/docker", environment: [:]),
                                required: required)
    }

    static let ping = FakeEngineSocket.Reply(method: "GET", path: "/_ping", headers: ["Api-Version": "1.41"], body: "OK")

    @Test func execThroughTheSocket() async throws {
        let frames = Self.frame(2, "to stderr\n") + Self.frame(1, "end\n")
        let engine = try FakeEngineSocket([
            Self.ping,
            .init(method: "POST", path: "/containers/c1/exec", status: 201, body: #"{"Id":"e1"}"#),
            .init(method: "POST", path: "/exec/e1/start", upgrade: true, frames: Data(frames).base64EncodedString()),
            .init(method: "GET", path: "/exec/e1/json", body: #"{"Running":false,"ExitCode":3}"#),
        ])
        defer { engine.stop() }
        var request = ExecRequest(argv: ["sh", "-c", "cat"])
        request.stdin = Array("from stdin\n".utf8)
        request.env = ["X": "1"]
        request.user = "nobody"
        let result = try await Self.runtime(engine).exec("c1", request)
        #expect(result.code == 3)
        #expect(result.stdout == "from stdin\nend\n")
        #expect(result.stderr == "to stderr\n")
        let create = try #require(engine.requests.first { $0.hasPrefix("POST /v1.41/containers/c1/exec ") })
        #expect(create.contains(#""AttachStdin":true"#) && create.contains(#""Env":["X=1"]"#) && create.contains(#""User":"nobody""#))
    }

    @Test func aMissingContainerThroughTheSocketIsTheClientsError() async throws {
        let engine = try FakeEngineSocket([
            Self.ping,
            .init(method: "POST", path: "/containers/ghost/exec", status: 404, body: #"{"message":"No such container: ghost"}"#),
            .init(method: "GET", path: "/containers/ghost/json", status: 404, body: #"{"message":"No such container: ghost"}"#),
        ])
        defer { engine.stop() }
        let runtime = Self.runtime(engine)
        for call in [{ _ = try await runtime.exec("ghost", ExecRequest(argv: ["true"])) }, { _ = try await runtime.inspect("ghost") }] as [() async throws -> Void] {
            let error = try await #require(throws: RuntimeError.self) { try await call() }
            #expect(error.kind == .containerNotFound)
            #expect(error.summary == "Container ghost does not exist.")
            #expect(error.command.first == "curl" && error.command.contains(engine.socketPath))
        }
    }

    @Test func anOldEngineOrNoSocketMeansTheClient() async throws {
        let old = try FakeEngineSocket([.init(method: "GET", path: "/_ping", headers: ["Api-Version": "1.40"], body: "OK")])
        defer { old.stop() }
        let runtime = Self.runtime(old)
        #expect(await runtime.socket.status() == .unavailable(reason: "the engine speaks API 1.40, older than the 1.41 ccm-lua needs"))
        // The call went to the (missing) client, not the socket.
        let error = try await #require(throws: RuntimeError.self) { _ = try await runtime.exec("c1", ExecRequest(argv: ["true"])) }
        #expect(error.kind == .runtimeNotFound)
        #expect(!old.requests.contains { $0.contains("/exec") })

        // Required: the absence is the error, saying what to do.
        let required = try await #require(throws: RuntimeError.self) { _ = try await Self.runtime(old, required: true).inspect("c1") }
        #expect(required.summary.contains("CCM_LUA_ENGINE_API=on") && required.summary.contains("older"))
        #expect(required.hint?.contains("CCM_LUA_ENGINE_API=auto") == true)
    }
}
