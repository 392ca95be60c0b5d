import Foundation
import Testing
import Core

/// Clusters on one remote Docker engine (an inner engine of `TestHosts`, at tcp://IP:2375: its
/// containers are not on this machine's filesystem, /proc or namespaces), reached through
/// DOCKER_HOST and through a Docker context, by the `ccm-lua` binary as a user runs it. Docker
/// only: the fixture's engines are Docker's.
@Suite("Remote engines: a cluster on one engine of another host", .serialized)
struct RemoteEngineTests {
    static let warning = "is reached over plain TCP without TLS"

    /// Runs the binary with `environment` over the process's own; waits for it to end.
    static func run(_ arguments: [String], home: URL, _ environment: [String: String]) async throws -> Binary.Result {
        let running = try Binary.Running(arguments, home: home, environment: environment)
        _ = await running.waitForExit(seconds: 600)
        running.finish()
        return Binary.Result(status: running.process.terminationStatus, stdout: running.stdout, stderr: running.stderr)
    }

    static func environment(_ extra: [String: String]) -> [String: String] {
        ["CCM_LUA_RUNTIME": "docker", "ETCD_DOCKER_IMAGE": Integration.etcdImage, "CCM_LUA_PULL": "never",
         "CCM_LUA_FAULT_IMAGE": TestHosts.nettoolsImage, "DOCKER_HOST": "", "DOCKER_CONTEXT": ""].merging(extra) { $1 }
    }

    /// What carries the cluster's label on `runtime`: containers, networks and volumes.
    static func resources(_ cluster: String, on runtime: CLIContainerRuntime) async throws -> [String] {
        let labels = [Labels.cluster: cluster]
        return try await runtime.listContainers(labels: labels).map { "container \($0.name)" }
            + runtime.listNetworks(labels: labels).map { "network \($0)" }
            + runtime.listVolumes(labels: labels).map { "volume \($0)" }
    }

    /// Whether `path` exists on the remote engine's own host (seen from a container that mounts its /).
    static func existsOnEngineHost(_ path: String, _ runtime: CLIContainerRuntime) async throws -> Bool {
        var spec = ContainerSpec(name: "ccmt-remote-look-\(UInt32.random(in: 0...UInt32.max))", image: Integration.baseImage)
        spec.labels = [Labels.cluster: "ccmt-remote-look"]
        spec.mounts = [Mount(hostPath: "/", containerPath: "/host", readOnly: true)]
        spec.command = ["test", "-e", "/host" + path]
        let id = try await runtime.createContainer(spec)
        do {
            try await runtime.start(id)
            var info = try await runtime.inspect(id)
            _ = try await eventually(30) { info = try await runtime.inspect(id); return info.state == .exited }
            try await runtime.remove(id)
            return info.exitCode == 0
        } catch {
            try? await runtime.remove(id)
            throw error
        }
    }

    /// The host name part of `tcp://IP:2375`.
    static func ip(_ address: String) -> String { URLComponents(string: address)?.host ?? address }

    static func etcdScript(_ name: String, keep: Bool) -> String {
        """
        local c = cluster.create { name = "\(name)", profile = "etcd", image = os.getenv("ETCD_DOCKER_IMAGE"), nodes = 3, keep = \(keep) }
        c:start { timeout = 120 }
        local n1, n2 = c:node(1), c:node(2)
        print("exec: " .. n1:run("echo remote-exec"))
        local m = n1:mark_log()
        n1:run("echo remote-log-line > /proc/1/fd/1")
        print("waited: " .. n1:wait_log("remote-log-line", { from = m, timeout = 60 }))
        local function health(from, to)
          return from:exec({ "etcdctl", "--endpoints=http://" .. to.name .. ":2379", "--dial-timeout=2s",
                             "--command-timeout=3s", "endpoint", "health" }).code
        end
        print("before: " .. health(n1, n2))
        local p = c:partition({ n1 }, { n2, c:node(3) })
        print("partitioned: " .. health(n1, n2))
        p:heal()
        print("healed: " .. wait_until(function() return health(n1, n2) == 0 and "0" end, { timeout = 60 }))
        local endpoint = n1:endpoint(2379)
        -- /health answers 503 until node1 hears from a leader again after the partition.
        print("endpoint: " .. endpoint .. " " .. wait_until(function()
          local status = http.get("http://" .. endpoint .. "/health").status
          return status == 200 and status
        end, { timeout = 60 }))
        print("data: " .. n1:run("ls /var/lib/etcd"))
        """
    }

    /// The lines every etcd script above prints when all went as on a local engine.
    static func expectEtcdScriptWorked(_ result: Binary.Result, engineIP: String, warnings expected: Int = 1,
                                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 0, "exit \(result.status):\n\(result.stdout)\n\(result.stderr)", sourceLocation: sourceLocation)
        for line in ["exec: remote-exec", "waited: ", "remote-log-line", "before: 0", "healed: 0", "data: node1"] {
            #expect(result.stdout.contains(line), "missing '\(line)' in:\n\(result.stdout)\n\(result.stderr)", sourceLocation: sourceLocation)
        }
        #expect(!result.stdout.contains("partitioned: 0"), "node1 still reached node2 while partitioned:\n\(result.stdout)", sourceLocation: sourceLocation)
        #expect(result.stdout.contains("endpoint: \(engineIP):") && result.stdout.contains(" 200"),
                "the endpoint is not a port published on the engine's host \(engineIP):\n\(result.stdout)", sourceLocation: sourceLocation)
        let warnings = result.stderr.components(separatedBy: warning).count - 1
        #expect(warnings == expected, "the plain-TCP warning came \(warnings) times:\n\(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test("DOCKER_HOST=tcp://: a kept 3-node etcd cluster becomes ready; exec, log wait, partition and heal, endpoint; status; folders stay on the engine; rm leaves nothing")
    func throughDockerHost() async throws {
        let hosts = try await TestHosts.shared()
        let address = hosts.inner[0]
        let remote = hosts.runtime(address)
        let name = "rdh-\(Labels.runID.prefix(6))"
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-remote-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let env = Self.environment(["DOCKER_HOST": address])
        try await Self.removingAfterwards(name, from: remote) {
            let result = try await Self.run(["-e", Self.etcdScript(name, keep: true)], home: home, env)
            Self.expectEtcdScriptWorked(result, engineIP: Self.ip(address))

            // The node folders are volumes on the engine, not folders of this machine, nor folders
            // of the engine's host named like this machine's state directory.
            let found = try await Self.resources(name, on: remote)
            #expect(found.filter { $0.hasPrefix("volume ") }.count == 3, "\(found)")
            #expect(found.filter { $0.hasPrefix("container ") }.count == 3, "\(found)")
            let nodeFolder = home.appendingPathComponent(name).appendingPathComponent("node1")
            #expect(FileManager.default.fileExists(atPath: nodeFolder.appendingPathComponent("logs/node.log").path))
            #expect(!FileManager.default.fileExists(atPath: nodeFolder.appendingPathComponent("data").path))
            #expect(try await !Self.existsOnEngineHost(home.path, remote), "the engine's host got a folder \(home.path)")
            #expect(try await CLIContainerRuntime(engine: .docker, environment: ["DOCKER_HOST": "unix:///var/run/docker.sock"])
                .listContainers(labels: [Labels.cluster: name]).isEmpty, "the cluster landed on the local engine")

            let status = try await Self.run(["status", name], home: home, env)
            #expect(status.status == 0, "\(status.stderr)")
            let running = status.stdout.split(separator: "\n").filter { $0.hasPrefix("node") && $0.contains("running") }
            #expect(running.count == 3, "status:\n\(status.stdout)")

            // An image of this machine that the remote engine does not have.
            let missing = try await Self.run(["-e", "cluster.create{image = \"\(TestHosts.image)\", profile = \"generic\"}"], home: home, env)
            #expect(missing.status == 1 && missing.stderr.contains("is not on the engine at DOCKER_HOST=\(address)")
                    && missing.stderr.contains("docker save \(TestHosts.image) | docker -H \(address) load"), "\(missing.stderr)")

            let removed = try await Self.run(["rm", name], home: home, env)
            #expect(removed.status == 0, "\(removed.stderr)")
            #expect(try await Self.resources(name, on: remote).isEmpty, "left on the remote engine after rm")
            #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(name).path))
        }
    }

    /// Runs `body`, then removes what is labelled with cluster `name` from `remote`, whether
    /// `body` threw or not.
    static func removingAfterwards(_ name: String, from remote: any ContainerRuntime, _ body: () async throws -> Void) async throws {
        do { try await body() } catch {
            _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: remote)
            throw error
        }
        _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: remote)
    }

    @Test("a Docker context (docker context use): the cluster works, endpoints are published on the context's host, a normal end leaves nothing")
    func throughAContext() async throws {
        let hosts = try await TestHosts.shared()
        let address = hosts.inner[1]
        let remote = hosts.runtime(address)
        let name = "rcx-\(Labels.runID.prefix(6))"
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-remote-\(UUID().uuidString)")
        // The client's own config folder for this test: the machine's ~/.docker is shared.
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-docker-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home); try? FileManager.default.removeItem(at: config) }
        let docker = ["DOCKER_CONFIG": config.path, "DOCKER_HOST": "", "DOCKER_CONTEXT": ""]
        let context = "ccmt-\(name)"
        let created = try await ProcessRunner.run(["docker", "context", "create", context, "--docker", "host=\(address)"],
                                                  environment: docker, timeout: Integration.execLimit)
        try #require(created.code == 0, "docker context create: \(created.stderrText)")
        let used = try await ProcessRunner.run(["docker", "context", "use", context], environment: docker, timeout: Integration.execLimit)
        try #require(used.code == 0, "docker context use: \(used.stderrText)")
        do {
            let result = try await Self.run(["-e", Self.etcdScript(name, keep: false)], home: home,
                                            Self.environment(["DOCKER_CONFIG": config.path]))
            Self.expectEtcdScriptWorked(result, engineIP: Self.ip(address))
            #expect(try await Self.resources(name, on: remote).isEmpty, "left on the remote engine after the script ended")
            #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(name).path))
        } catch {
            _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: remote)
            _ = try? await ProcessRunner.run(["docker", "context", "rm", "-f", context], environment: docker, timeout: Integration.execLimit)
            throw error
        }
        _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: remote)
        let removed = try await ProcessRunner.run(["docker", "context", "rm", "-f", context], environment: docker, timeout: Integration.execLimit)
        #expect(removed.code == 0, "docker context rm: \(removed.stderrText)")
    }

    @Test("a live run's cluster on a remote engine survives gc from another client (another pid namespace, another state folder); an error ends the run and leaves nothing")
    func gcElsewhereLeavesALiveRunAndAnErrorCleansUp() async throws {
        let hosts = try await TestHosts.shared()
        let address = hosts.inner[0]
        let remote = hosts.runtime(address)
        let name = "rgc-\(Labels.runID.prefix(6))"
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-remote-\(UUID().uuidString)")
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-remote-other-\(UUID().uuidString)")
        let go = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-remote-go-\(UUID().uuidString)")
        defer { for url in [home, other, go] { try? FileManager.default.removeItem(at: url) } }
        let env = Self.environment(["DOCKER_HOST": address])
        let script = """
            local c = cluster.create { name = "\(name)", image = "\(Integration.baseImage)", nodes = 2,
              profile = { name = "folders", node = function(node) return {
                command = { "sleep", "1000" }, user = "1001",
                files = { { path = "conf/app.conf", mount = "/etc/app.conf", format = "text", content = "for " .. node.name .. "\\n" } },
                directories = { data = "/data" } } end } }
            c:start()
            local n = c:node(1)
            print("owner: " .. n:run({ "stat", "-c", "%u", "/data" }))
            print("file: " .. n:run({ "cat", "/etc/app.conf" }))
            n:run("echo kept > /data/f")
            n:restart()
            print("after restart: " .. n:run({ "cat", "/data/f" }))
            local ok, err = pcall(function() return c:partition({ 1 }, { 2 }) end)
            print("helper: " .. tostring(err))
            print("ready")
            io.stdout:flush()
            wait_until(function() return io.open("\(go.path)") end, { timeout = 300, interval = 0.1 })
            error("boom")
            """
        try await Self.removingAfterwards(name, from: remote) {
            // A helper image that is on this machine but not on the remote engine.
            let running = try Binary.Running(["-e", script], home: home,
                                             environment: env.merging(["CCM_LUA_FAULT_IMAGE": TestHosts.image]) { $1 })
            let ready = await running.waitForOutput("ready", seconds: 300)
            try #require(ready, "the script did not get ready:\n\(running.stdout)\n\(running.stderr)")
            let out = running.stdout
            #expect(out.contains("owner: 1001"), "the volume was not given to the node's user:\n\(out)")
            #expect(out.contains("file: for node1"), "\(out)")
            #expect(out.contains("after restart: kept"), "\(out)")
            #expect(out.contains("must be on the engine that runs the nodes")
                    && out.contains("docker save \(TestHosts.image) | docker -H \(address) load"), "\(out)")

            // Another client of the same engine: another pid namespace and another state folder.
            let gc = try await ProcessRunner.run(["unshare", "--pid", "--fork", "--mount-proc", Binary.path, "gc"],
                                                 environment: env.merging(["CCM_LUA_HOME": other.path]) { $1 },
                                                 timeout: Integration.execLimit)
            #expect(gc.code == 0, "gc: \(gc.stdoutText)\(gc.stderrText)")
            // The same machine, another state folder: the owner is alive.
            let gcHere = try await Self.run(["gc"], home: other, env)
            #expect(gcHere.status == 0, "\(gcHere.stderr)")
            let alive = try await Self.resources(name, on: remote)
            #expect(alive.filter { $0.hasPrefix("container ") }.count == 2, "gc removed a live run's containers: \(alive)")

            FileManager.default.createFile(atPath: go.path, contents: Data())
            _ = await running.waitForExit(seconds: 120)
            running.finish()
            #expect(running.process.terminationStatus == 1, "\(running.stderr)")
            #expect(running.stderr.contains("boom"), "\(running.stderr)")
            #expect(try await Self.resources(name, on: remote).isEmpty, "left on the remote engine after the error")
            #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(name).path))
        }
    }

    @Test("kill -9 of the owner of a run on a remote engine: its reaper, on this machine, removes the cluster from the remote engine")
    func theReaperCleansTheRemoteEngine() async throws {
        let hosts = try await TestHosts.shared()
        let address = hosts.inner[1]
        let remote = hosts.runtime(address)
        let name = "rrp-\(Labels.runID.prefix(6))"
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-remote-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let script = """
            local c = cluster.create { name = "\(name)", image = "\(Integration.baseImage)", nodes = 2,
              profile = { name = "folders", node = function() return { command = { "sleep", "1000" }, directories = { data = "/data" } } end } }
            c:start()
            print("ready")
            io.stdout:flush()
            sleep(600)
            """
        try await Self.removingAfterwards(name, from: remote) {
            let running = try Binary.Running(["-e", script], home: home, environment: Self.environment(["DOCKER_HOST": address]))
            let ready = await running.waitForOutput("ready", seconds: 300)
            try #require(ready, "the script did not get ready:\n\(running.stdout)\n\(running.stderr)")
            #expect(try await Self.resources(name, on: remote).count == 5, "2 containers, 1 network, 2 volumes expected")
            kill(running.process.processIdentifier, SIGKILL)
            running.process.waitUntilExit()
            let gone = try await eventually(60) { try await Self.resources(name, on: remote).isEmpty }
            let left = try await Self.resources(name, on: remote)
            #expect(gone, "left on the remote engine after the reaper: \(left)")
        }
    }

    /// Podman's own local optimisations (its log file read here, nsenter, node addresses, bind
    /// mounts) give way to the remote paths when it is driven through its service socket, as a
    /// remote Podman is; the service runs on this machine only so that the test needs no other one.
    @Test("Podman through its service (CONTAINER_HOST): the remote paths (client logs, helper containers, published ports, volumes) run a 3-node etcd cluster")
    func podmanThroughItsService() async throws {
        let local = try await Integration.runtime(.podman, images: [Integration.etcdImage, TestHosts.nettoolsImage])
        let name = "rpm-\(Labels.runID.prefix(6))"
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-remote-\(UUID().uuidString)")
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("ccmt-podman-\(UUID().uuidString.prefix(8)).sock").path
        let service = Process()
        service.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        service.arguments = ["podman", "system", "service", "--time=0", "unix://" + socket]
        service.standardOutput = FileHandle.nullDevice
        service.standardError = FileHandle.nullDevice
        try service.run()
        defer {
            service.terminate()
            service.waitUntilExit()
            try? FileManager.default.removeItem(atPath: socket)
            try? FileManager.default.removeItem(at: home)
        }
        let listening = await eventually(30) { FileManager.default.fileExists(atPath: socket) }
        try #require(listening, "podman system service did not open \(socket)")
        do {
            let result = try await Self.run(["-e", Self.etcdScript(name, keep: false)], home: home,
                                            Self.environment(["CCM_LUA_RUNTIME": "podman", "CONTAINER_HOST": "unix://" + socket]))
            Self.expectEtcdScriptWorked(result, engineIP: "127.0.0.1", warnings: 0)
            #expect(try await Self.resources(name, on: local).isEmpty, "left on Podman after the script ended")
        } catch {
            _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: local)
            throw error
        }
        _ = try? await ResourceCleanup.removeAll(matching: [Labels.cluster: name], in: local)
    }

    @Test("image.build with a remote engine selected builds on that engine, from this machine's folder")
    func imageBuildBuildsOnTheRemoteEngine() async throws {
        let hosts = try await TestHosts.shared()
        let address = hosts.inner[0]
        let remote = hosts.runtime(address)
        let tag = "ccmt-remote-build-\(Labels.runID.prefix(6)):1"
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-remote-\(UUID().uuidString)")
        let context = home.appendingPathComponent("context")
        try FileManager.default.createDirectory(at: context, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try "FROM \(Integration.baseImage)\nCOPY marker /marker\n".write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
        try "built here\n".write(to: context.appendingPathComponent("marker"), atomically: true, encoding: .utf8)
        let local = CLIContainerRuntime(engine: .docker, environment: ["DOCKER_HOST": "unix:///var/run/docker.sock"])
        do {
            let result = try await Self.run(["-e", "print(image.build{context = \"\(context.path)\", tag = \"\(tag)\"})"], home: home,
                                            Self.environment(["DOCKER_HOST": address]))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try await remote.imageExists(tag), "the image is not on the remote engine")
            #expect(try await !local.imageExists(tag), "the image was built on this machine's engine")
        } catch {
            try? await remote.removeImage(tag)
            throw error
        }
        try await remote.removeImage(tag)
    }
}
