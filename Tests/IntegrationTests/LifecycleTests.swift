import Foundation
import Testing
import Core

/// Runs against the real engines: Docker and Podman, every test for both. Serialized: the machine
/// has 2 cores, and timings (elections, time-outs) should not depend on what else runs.
@Suite(.serialized) struct EngineTests {}

extension EngineTests {
    @Test(arguments: Engine.allCases)
    func containerLifecycle(engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine)
        try await Integration.withScope(runtime, "life") { scope in
            let image = try await runtime.inspectImage(Integration.baseImage)
            #expect(image.id.hasPrefix("sha256:"))

            var spec = scope.spec("n1")
            spec.env = ["GREETING": "hello world"]
            spec.hostname = "node-one"
            spec.workdir = "/tmp"
            spec.memory = "64m"
            spec.cpus = 0.5
            let id = try await runtime.createContainer(spec)
            #expect(id.count == 64)

            let created = try await runtime.inspect(spec.name)
            #expect(created.state == .created)
            #expect(created.startedAt == "")
            #expect(created.imageID == image.id)
            #expect(created.labels[Labels.cluster] == scope.cluster)
            #expect(created.labels[Labels.run] == Labels.runID)
            #expect(created.labels[Labels.ownerPID] == Labels.ownerPIDValue)

            try await runtime.start(spec.name)
            let running = try await runtime.inspect(id)
            #expect(running.name == spec.name)
            #expect(running.state == .running)
            #expect(running.pid > 0)
            #expect(!running.startedAt.isEmpty)

            let env = try await runtime.exec(spec.name, ExecRequest(argv: ["sh", "-c", "echo $GREETING; hostname; pwd"]))
            #expect(env.stdout == "hello world\nnode-one\n/tmp\n")

            let listed = try await runtime.listContainers(labels: [Labels.cluster: scope.cluster])
            #expect(listed.map(\.name) == [spec.name])
            #expect(listed.first?.state == .running)
            #expect(listed.first?.labels[Labels.node] == "n1")

            try await runtime.stop(spec.name, timeout: 1)
            let stopped = try await runtime.inspect(spec.name)
            #expect(stopped.state == .exited)

            try await runtime.start(spec.name)
            try await runtime.restart(spec.name, timeout: 0)
            let restarted = try await runtime.inspect(spec.name)
            #expect(restarted.state == .running)
            #expect(restarted.startedAt > running.startedAt)

            try await runtime.remove(spec.name)
            try await runtime.remove(spec.name)   // a second removal is not an error
            await expectRuntimeError(.containerNotFound) { _ = try await runtime.inspect(spec.name) }
        }
    }

    @Test(arguments: Engine.allCases)
    func networksAliasesAndFiles(engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine)
        try await Integration.withScope(runtime, "net") { scope in
            let network = scope.name("net")
            try await runtime.createNetwork(NetworkSpec(name: network, labels: scope.labels, subnet: "10.213.91.0/24"))
            #expect(try await runtime.listNetworks(labels: [Labels.cluster: scope.cluster]) == [network])

            let a = try await scope.run("a") { $0.network = network; $0.networkAliases = ["alpha"] }
            // Rootless, a container made without a network (slirp4netns) cannot join one later:
            // b starts on a network of its own and is connected to a second one.
            var own: String?
            if Integration.isRootless {
                own = scope.name("own")
                try await runtime.createNetwork(NetworkSpec(name: own!, labels: scope.labels))
                let lone = try await scope.run("lone")
                let refused = await expectRuntimeError(.commandFailed) { try await runtime.connect(network: network, container: lone, aliases: []) }
                #expect(refused?.summary.contains("made without a network (slirp4netns)") == true, "\(String(describing: refused))")
                try await runtime.remove(lone)
            }
            let b = try await scope.run("b") { $0.network = own }
            let info = try await runtime.inspect(a)
            #expect(info.ipAddresses[network]?.hasPrefix("10.213.91.") == true)

            try await runtime.connect(network: network, container: b, aliases: ["beta"])
            #expect(try await runtime.inspect(b).ipAddresses[network] != nil)
            let lookup = try await runtime.exec(b, ExecRequest(argv: ["getent", "hosts", "alpha"]))
            #expect(lookup.code == 0)
            #expect(lookup.stdout.hasPrefix(info.ipAddresses[network]!))
            try await runtime.disconnect(network: network, container: b)
            #expect(try await runtime.inspect(b).ipAddresses[network] == nil)

            let content = Array("line one\nline two\u{00e9}\n".utf8) + [0, 255]
            try await runtime.copyIn(a, content: content, to: "/tmp/copied.bin")
            #expect(try await runtime.copyOut(a, from: "/tmp/copied.bin") == content)
            await expectRuntimeError(.commandFailed) { _ = try await runtime.copyOut(a, from: "/nonexistent/file") }

            try await runtime.remove(a)
            try await runtime.remove(b)
            if let own { try await runtime.removeNetwork(own) }
            try await runtime.removeNetwork(network)
            try await runtime.removeNetwork(network)  // a second removal is not an error
            #expect(try await runtime.listNetworks(labels: [Labels.cluster: scope.cluster]).isEmpty)
        }
    }

    @Test(arguments: Engine.allCases)
    func pauseUnpauseAndKill(engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine)
        try await Integration.withScope(runtime, "pause") { scope in
            let name = try await scope.run("n1")
            if Integration.canPause {
                try await runtime.pause(name)
                #expect(try await runtime.inspect(name).state == .paused)
                await expectRuntimeError(.execFailed) { _ = try await runtime.exec(name, ExecRequest(argv: ["true"])) }
                try await runtime.unpause(name)
            } else {
                let refused = await expectRuntimeError(.commandFailed) { try await runtime.pause(name) }
                #expect(refused?.summary.contains("Rootless Podman cannot pause container \(name)") == true, "\(String(describing: refused))")
            }
            #expect(try await runtime.inspect(name).state == .running)
            #expect(try await runtime.exec(name, ExecRequest(argv: ["true"])).code == 0)

            try await runtime.kill(name, signal: "KILL")
            let killed = try await runtime.inspect(name)
            #expect(killed.state == .exited)
            #expect(killed.exitCode == 137)
        }
    }
}

extension EngineTests {
    /// Builds a small image from the base image, finds it under the name it was given (Podman
    /// stores it as `localhost/...`), runs it, and removes it again.
    @Test(arguments: Engine.allCases)
    func buildAndInspectImage(engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine)
        let tag = "ccm-lua-test/built-\(Labels.runID):1"
        let context = FileManager.default.temporaryDirectory.path + "/ccmt-build-\(Labels.runID)-\(engine.rawValue)"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(atPath: context)
            _ = try? runCommand([engine.rawValue, "rmi", "-f", tag])
        }
        try """
            ARG BASE
            FROM ${BASE}
            LABEL ccm-lua.run=\(Labels.runID)
            RUN echo built > /built.txt
            """.write(toFile: context + "/Containerfile", atomically: true, encoding: .utf8)
        try await runtime.buildImage(ImageBuild(contextDirectory: context, dockerfile: context + "/Containerfile", tag: tag,
                                                buildArgs: ["BASE": (engine == .podman ? "localhost/" : "") + Integration.baseImage]))
        #expect(try await runtime.imageExists(tag))
        #expect(try await runtime.imageExists("localhost/" + tag), "both spellings work on both engines")
        let info = try await runtime.inspectImage(tag)
        #expect(info.id.hasPrefix("sha256:"))
        #expect(info.tags.contains { $0.hasSuffix(tag) })

        try await Integration.withScope(runtime, "build") { scope in
            let name = try await scope.run("n1", image: tag)
            #expect(try await runtime.exec(name, ExecRequest(argv: ["cat", "/built.txt"])).stdout == "built\n")
            #expect(try await runtime.inspect(name).imageID == info.id)
        }
    }
}

/// Runs a command synchronously for test clean-up (`defer` cannot await).
func runCommand(_ argv: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = argv
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
