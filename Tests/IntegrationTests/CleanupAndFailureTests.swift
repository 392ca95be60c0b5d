import Foundation
import Testing
import Core

extension EngineTests {
    @Test(arguments: Engine.allCases)
    func cleanupByLabelLeavesNothing(engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine)
        try await Integration.withScope(runtime, "other") { other in
            // A neighbouring cluster of the same run that must survive.
            let survivor = try await other.run("keep")
            try await Integration.withScope(runtime, "clean") { scope in
                try await runtime.createNetwork(NetworkSpec(name: scope.name("net"), labels: scope.labels))
                try await runtime.createVolume(VolumeSpec(name: scope.name("vol"), labels: scope.labels))
                try await scope.run("running") { $0.network = scope.name("net"); $0.mounts = [Mount(hostPath: scope.name("vol"), containerPath: "/data")] }
                _ = try await runtime.createContainer(scope.spec("created"))
                let exited = try await scope.run("exited", command: ["true"])
                _ = try await eventually(30) { try await runtime.inspect(exited).state == .exited }

                let selector = [Labels.cluster: scope.cluster]
                let report = try await ResourceCleanup.removeAll(matching: selector, in: runtime)
                #expect(report.containers.count == 3)
                #expect(report.networks == [scope.name("net")])
                #expect(report.volumes == [scope.name("vol")])
                #expect(report.failures.isEmpty)
                #expect(try await runtime.listContainers(labels: selector).isEmpty)
                #expect(try await runtime.listNetworks(labels: selector).isEmpty)
                #expect(try await runtime.listVolumes(labels: selector).isEmpty)
            }
            #expect(try await runtime.inspect(survivor).state == .running)
        }
    }

    @Test(arguments: Engine.allCases)
    func badInputIsATypedActionableError(engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine)
        try await Integration.withScope(runtime, "bad") { scope in
            #expect(try await runtime.imageExists("ccm-lua-test/nosuch:1") == false)
            await expectRuntimeError(.imageNotFound) { _ = try await runtime.inspectImage("ccm-lua-test/nosuch:1") }
            let unknown = await expectRuntimeError(.imageNotFound) {
                _ = try await runtime.createContainer(scope.spec("img", image: "ccm-lua-test/nosuch:1"))
            }
            #expect(unknown?.description.contains("ccm-lua-test/nosuch:1") == true)

            let name = try await scope.run("n1")
            let conflict = await expectRuntimeError(.nameConflict) { _ = try await runtime.createContainer(scope.spec("n1")) }
            #expect(conflict?.summary.contains(name) == true)

            var tooMuch = scope.spec("mem")
            tooMuch.memory = "12zz"
            let invalid = await expectRuntimeError(.invalidArgument) { _ = try await runtime.createContainer(tooMuch) }
            #expect(invalid?.stderr.contains("12zz") == true)

            try await runtime.stop(name, timeout: 0)
            await expectRuntimeError(.execFailed) { _ = try await runtime.exec(name, ExecRequest(argv: ["true"])) }

            _ = try await runtime.createContainer(scope.spec("nostart", command: ["no-such-program"]))
            await expectRuntimeError(.startFailed) { try await runtime.start(scope.name("nostart")) }

            await expectRuntimeError(.containerNotFound) { try await runtime.start(scope.name("nosuch")) }
            await expectRuntimeError(.containerNotFound) { try await runtime.kill(scope.name("nosuch"), signal: "KILL") }
        }
    }

    /// The engine behind the client is unreachable: Docker through DOCKER_HOST, Podman through
    /// its remote mode pointed at a socket that does not exist.
    @Test(arguments: Engine.allCases)
    func engineNotRunning(engine: Engine) async throws {
        _ = try await Integration.runtime(engine)
        let unreachable = switch engine {
        case .docker: CLIContainerRuntime(engine: .docker, environment: ["DOCKER_HOST": "unix:///nonexistent.sock"])
        case .podman: CLIContainerRuntime(engine: .podman, globalArguments: ["--remote", "--url", "unix:///nonexistent.sock"])
        }
        let error = await expectRuntimeError(.daemonNotRunning) { _ = try await unreachable.version() }
        #expect(error?.description.contains("nonexistent.sock") == true)
        await expectRuntimeError(.daemonNotRunning) { _ = try await unreachable.listContainers(labels: [Labels.run: Labels.runID]) }
        await expectRuntimeError(.daemonNotRunning) { _ = try await unreachable.exec("x", ExecRequest(argv: ["true"])) }

        let missing = CLIContainerRuntime(engine: engine, executable: "/nonexistent/\(engine.rawValue)")
        let notFound = await expectRuntimeError(.runtimeNotFound) { _ = try await missing.version() }
        #expect(notFound?.hint?.contains("CCM_LUA_RUNTIME") == true)
    }

    @Test func discoveryFindsAnEngine() async throws {
        let report = await EngineDiscovery().doctor()
        if report.selected == nil {
            if Integration.isCI { Issue.record("CI=true and no engine answered:\n\(report.text)") }
            try Test.cancel(Comment(rawValue: "no engine answered:\n\(report.text)"))
        }
        let runtime = try await EngineDiscovery().discover()
        #expect(runtime.engine == report.selectedAttempt?.candidate.engine)
        #expect(report.text.contains("ccm-lua will use"))
    }
}
