import Testing
import Core
import CoreTesting

/// Engine choice from the environment, with stand-in runtimes so no engine is needed.
@Suite struct DiscoveryTests {
    /// A discovery whose engines answer (or not) as scripted, and whose clients all "exist".
    static func discovery(_ environment: [String: String], down: Set<Engine> = []) -> EngineDiscovery {
        var env = environment
        env["PATH"] = "/bin:/usr/bin"
        return EngineDiscovery(environment: env) { candidate, _ in
            let fake = FakeContainerRuntime(engine: candidate.engine)
            if down.contains(candidate.engine) { fake.failNext("version", with: .daemonNotRunning) }
            return fake
        }
    }

    @Test func defaultOrderIsDockerThenPodman() throws {
        let candidates = try Self.discovery([:]).candidates()
        #expect(candidates.map(\.engine) == [.docker, .podman])
        #expect(candidates.allSatisfy { $0.source == .search })
    }

    @Test func ccmLuaRuntimeWinsOverScyllaCCMVariable() throws {
        let candidates = try Self.discovery(["CCM_LUA_RUNTIME": "podman", "CCM_CONTAINER_RUNTIME": "docker"]).candidates()
        #expect(candidates == [EngineDiscovery.Candidate(engine: .podman, executable: "podman", source: .ccmLuaRuntime)])
        let scylla = try Self.discovery(["CCM_CONTAINER_RUNTIME": "/usr/bin/podman"]).candidates()
        #expect(scylla == [EngineDiscovery.Candidate(engine: .podman, executable: "/usr/bin/podman", source: .containerRuntime)])
    }

    @Test func unknownEngineIsAConfigurationError() {
        #expect(EngineDiscovery.engine(named: "/opt/bin/podman-remote") == .podman)
        #expect(EngineDiscovery.engine(named: "nerdctl") == nil)
        #expect { try Self.discovery(["CCM_LUA_RUNTIME": "nerdctl"]).candidates() } throws: { error in
            (error as? RuntimeError)?.kind == .invalidArgument && "\(error)".contains("CCM_LUA_RUNTIME")
        }
    }

    @Test func fallsBackToPodmanWhenDockerIsDown() async throws {
        let runtime = try await Self.discovery([:], down: [.docker]).discover()
        #expect(runtime.engine == .podman)
    }

    @Test func anExplicitChoiceIsNeverReplaced() async throws {
        await #expect { try await Self.discovery(["CCM_LUA_RUNTIME": "docker"], down: [.docker]).discover() } throws: { error in
            guard let error = error as? RuntimeError else { return false }
            return error.kind == .daemonNotRunning && error.summary.contains("docker")
        }
    }

    @Test func doctorReportsEveryEngine() async {
        let report = await Self.discovery(["CCM_LUA_RUNTIME": "docker"], down: [.docker]).doctor()
        #expect(report.attempts.map(\.candidate.engine) == [.docker, .podman])
        #expect(report.selected == nil, "the chosen engine is down and must not be swapped for podman")
        #expect(report.attempts[1].ok)
        #expect(report.text.contains("from CCM_LUA_RUNTIME"))
        #expect(report.text.contains("problem: "))
        #expect(report.text.contains("fix: "))

        let healthy = await Self.discovery([:]).doctor()
        #expect(healthy.selectedAttempt?.candidate.engine == .docker)
        #expect(healthy.text.contains("ccm-lua will use docker"))
    }

    @Test func doctorChecksNamesOnEveryAnsweringEngineOrOnlyTheChosenOne() async {
        let any = await Self.discovery([:], down: [.docker]).doctor()
        #expect(any.enginesToCheck.map(\.candidate.engine) == [.podman])
        let both = await Self.discovery([:]).doctor()
        #expect(both.enginesToCheck.map(\.candidate.engine) == [.docker, .podman])
        let chosen = await Self.discovery(["CCM_LUA_RUNTIME": "podman"]).doctor()
        #expect(chosen.enginesToCheck.map(\.candidate.engine) == [.podman])
        let chosenButDown = await Self.discovery(["CCM_LUA_RUNTIME": "docker"], down: [.docker]).doctor()
        #expect(chosenButDown.enginesToCheck.isEmpty)
    }

    @Test func missingClientIsReportedWithInstallHint() async {
        let discovery = EngineDiscovery(environment: ["CCM_LUA_RUNTIME": "/nonexistent/docker", "PATH": "/nonexistent"])
        let report = await discovery.doctor()
        #expect(report.attempts.first?.error?.kind == .runtimeNotFound)
        #expect(report.attempts.first?.error?.hint?.contains("apt-get install docker.io") == true)
        #expect(report.selected == nil)
    }
}
