import Foundation
import Testing
import Core

/// The same operations through both runtimes, on both engines: the Engine API runtime and the
/// client runtime it falls back to must give the same results and the same errors.
@Suite struct EngineAPIRuntimeTests {
    enum Path: String, CaseIterable, CustomTestStringConvertible {
        case api, client
        var testDescription: String { rawValue }
    }

    static let cases: [(Engine, Path)] = Engine.allCases.flatMap { engine in Path.allCases.map { (engine, $0) } }

    /// The runtime for `path`: the client as such, or the API runtime around it with the API
    /// required (CCM_LUA_ENGINE_API=on), so a socket that does not answer fails the test.
    static func runtime(_ engine: Engine, _ path: Path) async throws -> (any ContainerRuntime, CLIContainerRuntime) {
        let cli = try await Integration.runtime(engine)
        guard path == .api else { return (cli, cli) }
        let chosen = try EngineAPIRuntime.choose(cli: cli, environment: [EngineAPIMode.variable: "on"])
        let api = try #require(chosen as? EngineAPIRuntime)
        try await EngineAPIRuntime.requireAPI(api, environment: [EngineAPIMode.variable: "on"])
        return (api, cli)
    }

    @Test(arguments: cases)
    func execCarriesStdinEnvUserWorkdirAndSeparateStreams(engine: Engine, path: Path) async throws {
        let (runtime, cli) = try await Self.runtime(engine, path)
        try await Integration.withScope(cli, "api-exec-\(path)") { scope in
            var spec = scope.spec("n1")
            spec.labels[Labels.node] = "n1"
            let id = try await runtime.createContainer(spec)
            #expect(!id.isEmpty)
            try await runtime.start(spec.name)

            var request = ExecRequest(argv: ["sh", "-c", "cat; echo; echo \"$X\"; id -u; pwd; echo to-stderr >&2; exit 3"])
            request.stdin = Array("from stdin".utf8)
            request.env = ["X": "x value"]
            request.user = "65534"
            request.workdir = "/var"
            request.timeout = Integration.execLimit
            let result = try await runtime.exec(spec.name, request)
            #expect(result.code == 3)
            #expect(result.stdout == "from stdin\nx value\n65534\n/var\n")
            #expect(result.stderr == "to-stderr\n")
            #expect(result.duration > 0)

            // No stdin given: the program sees its input closed at once (cat ends).
            let noInput = try await runtime.exec(spec.name, ExecRequest(argv: ["cat"]))
            #expect(noInput.code == 0 && noInput.stdout.isEmpty)

            // Larger than one frame and one socket read.
            let big = try await runtime.exec(spec.name, ExecRequest(argv: ["sh", "-c", "head -c 300000 /dev/zero | tr '\\000' x"]))
            #expect(big.stdout.count == 300_000)

            let missingProgram = await expectRuntimeError(.execFailed) { _ = try await runtime.exec(spec.name, ExecRequest(argv: ["no-such-binary"])) }
            #expect(missingProgram?.summary == "The program to exec was not found in container \(spec.name).")
        }
    }

    @Test(arguments: cases)
    func execTimeoutKillsTheProgram(engine: Engine, path: Path) async throws {
        let (runtime, cli) = try await Self.runtime(engine, path)
        try await Integration.withScope(cli, "api-timeout-\(path)") { scope in
            let name = try await scope.run("n1")
            var request = ExecRequest(argv: ["sh", "-c", "sleep 419; echo never"])
            request.timeout = 1
            let started = ContinuousClock.now
            let error = await expectRuntimeError(.timeout) { _ = try await runtime.exec(name, request) }
            #expect(ContinuousClock.now - started < .seconds(30))
            #expect(error?.summary == "`sh -c sleep 419; echo never` in container \(name) ran longer than 1.0 s and was killed.")
            // The kill ran before the error came back: nothing of it is left.
            let listing = ExecRequest(argv: ["sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\000' ' '"])
            #expect(!(try await runtime.exec(name, listing).stdout.contains("sleep 419")), "the timed-out command still runs")
        }
    }

    @Test(arguments: Engine.allCases)
    func inspectAgreesWithTheClient(engine: Engine) async throws {
        let (api, cli) = try await Self.runtime(engine, .api)
        try await Integration.withScope(cli, "api-inspect") { scope in
            var spec = scope.spec("n1")
            spec.ports = [PortMapping(containerPort: 2379)]
            spec.env = ["A": "1"]
            spec.network = nil
            _ = try await api.createContainer(spec)
            let created = try await api.inspect(spec.name)
            #expect(created == (try await cli.inspect(spec.name)))
            #expect(created.state == .created)
            #expect(created.startedAt == "")
            try await api.start(spec.name)
            let viaAPI = try await api.inspect(spec.name)
            let viaClient = try await cli.inspect(spec.name)
            #expect(viaAPI == viaClient)
            #expect(viaAPI.state == .running)
            #expect(viaAPI.labels[Labels.cluster] == scope.cluster)
            #expect(viaAPI.publishedPorts.first?.containerPort == 2379)
            #expect(try await api.inspect(all: [spec.name, spec.name]) == [viaClient, viaClient])
        }
    }

    @Test(arguments: cases)
    func missingThingsGiveTheSameErrors(engine: Engine, path: Path) async throws {
        let (runtime, cli) = try await Self.runtime(engine, path)
        try await Integration.withScope(cli, "api-missing-\(path)") { scope in
            let ghost = scope.name("ghost")
            let inspectError = await expectRuntimeError(.containerNotFound) { _ = try await runtime.inspect(ghost) }
            #expect(inspectError?.summary == "Container \(ghost) does not exist.")
            let execError = await expectRuntimeError(.containerNotFound) { _ = try await runtime.exec(ghost, ExecRequest(argv: ["true"])) }
            #expect(execError?.summary == "Container \(ghost) does not exist.")
            await expectRuntimeError(.containerNotFound) { try await runtime.start(ghost) }
            // Removing what is not there is not an error.
            try await runtime.remove(ghost)
            try await runtime.remove(all: [ghost, scope.name("ghost2")])

            var spec = scope.spec("n1", image: "ccm-lua-test/no-such-image:1")
            spec.command = ["true"]
            let imageError = await expectRuntimeError(.imageNotFound) { _ = try await runtime.createContainer(spec) }
            #expect(imageError?.summary.contains("ccm-lua-test/no-such-image:1") == true, "\(String(describing: imageError))")

            // A stopped container cannot exec.
            let name = try await scope.run("n2", command: ["true"])
            _ = try await eventually(30) { try await cli.inspect(name).state == .exited }
            await expectRuntimeError(.execFailed) { _ = try await runtime.exec(name, ExecRequest(argv: ["true"])) }

            try await runtime.remove(name)
            await expectRuntimeError(.containerNotFound) { _ = try await cli.inspect(name) }
        }
    }

    /// A cluster of three created, started and removed in one go, as `Cluster` does it.
    @Test(arguments: cases)
    func startInOrderAndRemoveAll(engine: Engine, path: Path) async throws {
        let (runtime, cli) = try await Self.runtime(engine, path)
        try await Integration.withScope(cli, "api-batch-\(path)") { scope in
            let names = ["a", "b", "c"].map { scope.name($0) }
            for node in ["a", "b", "c"] { _ = try await runtime.createContainer(scope.spec(node)) }
            try await runtime.start(inOrder: names)
            #expect(try await runtime.inspect(all: names).map(\.state) == [.running, .running, .running])
            try await runtime.remove(all: names)
            #expect(try await cli.listContainers(labels: [Labels.cluster: scope.cluster]).isEmpty)
        }
    }
}
