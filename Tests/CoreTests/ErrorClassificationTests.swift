import Testing
import Core

/// Every captured engine failure must come out as the right `RuntimeError` kind, with a summary
/// and a hint, and carry the command, exit code and stderr.
@Suite struct ErrorClassificationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var fixture: String
        var subject: EngineErrorClassifier.Subject
        var kind: RuntimeError.Kind
        var testDescription: String { "\(fixture) -> \(kind)" }
    }

    static let cases: [Case] = [
        Case(fixture: "container-not-found", subject: .container("fx-nosuch"), kind: .containerNotFound),
        Case(fixture: "start-not-found", subject: .start("fx-nosuch"), kind: .containerNotFound),
        Case(fixture: "stop-not-found", subject: .container("fx-nosuch"), kind: .containerNotFound),
        Case(fixture: "kill-not-found", subject: .container("fx-nosuch"), kind: .containerNotFound),
        Case(fixture: "logs-not-found", subject: .container("fx-nosuch"), kind: .containerNotFound),
        Case(fixture: "image-not-found", subject: .image("ccm-lua-test/nosuch:1"), kind: .imageNotFound),
        Case(fixture: "create-image-not-found", subject: .container("fx-nosuch"), kind: .imageNotFound),
        Case(fixture: "network-not-found", subject: .network("fx-nosuch"), kind: .networkNotFound),
        Case(fixture: "network-conflict", subject: .network("fx-net"), kind: .nameConflict),
        Case(fixture: "name-conflict", subject: .container("fx-run"), kind: .nameConflict),
        Case(fixture: "invalid-memory", subject: .container("fx-bad"), kind: .invalidArgument),
        Case(fixture: "invalid-cpus", subject: .container("fx-bad"), kind: .invalidArgument),
        Case(fixture: "exec-stopped", subject: .exec("fx-exited"), kind: .execFailed),
        Case(fixture: "exec-created", subject: .exec("fx-created"), kind: .execFailed),
        Case(fixture: "exec-no-binary", subject: .exec("fx-run"), kind: .execFailed),
        Case(fixture: "start-failed", subject: .start("fx-bad"), kind: .startFailed),
        Case(fixture: "pause-stopped", subject: .container("fx-exited"), kind: .commandFailed),
        Case(fixture: "unpause-running", subject: .container("fx-run"), kind: .commandFailed),
        Case(fixture: "daemon-not-running", subject: .engine, kind: .daemonNotRunning),
    ]

    @Test(arguments: Engine.allCases, cases)
    func classifiesCapturedFailure(engine: Engine, testCase: Case) throws {
        let failure = try Fixtures.failure(engine, testCase.fixture)
        #expect(failure.exitCode != 0)
        let error = EngineErrorClassifier.classify(engine: engine, command: failure.command, exitCode: failure.exitCode,
                                                   stderr: failure.stderr, stdout: failure.stdout, subject: testCase.subject)
        #expect(error.kind == testCase.kind, "\(failure.stderr)")
        #expect(error.engine == engine)
        #expect(error.command == failure.command)
        #expect(error.exitCode == failure.exitCode)
        #expect(!error.stderr.isEmpty)
        #expect(!(error.hint ?? "").isEmpty)
        // The message shows everything a person needs to act.
        let text = error.description
        #expect(text.contains("command: "))
        #expect(text.contains("exit code: \(failure.exitCode)"))
        #expect(text.contains("hint: "))
        #expect(!text.contains("failed to connect to syslog"))
    }

    @Test(arguments: Engine.allCases)
    func execFailuresAreToldApartFromProgramExits(engine: Engine) throws {
        for name in ["exec-stopped", "exec-created", "exec-no-binary"] {
            let failure = try Fixtures.failure(engine, name)
            #expect(EngineErrorClassifier.isEngineExecFailure(engine: engine, exitCode: failure.exitCode,
                                                              stderr: failure.stderr, stdout: failure.stdout), "\(name)")
        }
        // A program of the container that exits 127 or 1 by itself is a result, not an engine failure.
        #expect(!EngineErrorClassifier.isEngineExecFailure(engine: engine, exitCode: 127, stderr: "sh: 1: nosuch: not found\n", stdout: ""))
        #expect(!EngineErrorClassifier.isEngineExecFailure(engine: engine, exitCode: 1, stderr: "Error: key not found\n", stdout: ""))
        #expect(!EngineErrorClassifier.isEngineExecFailure(engine: engine, exitCode: 0, stderr: "", stdout: ""))
    }

    /// Captured from two concurrent `docker rm -f` of one container. Podman makes the second wait
    /// for the first and succeed, so it has no such message.
    @Test func removalInProgressIsItsOwnKind() throws {
        let failure = try Fixtures.failure(.docker, "rm-in-progress")
        let error = EngineErrorClassifier.classify(engine: .docker, command: failure.command, exitCode: failure.exitCode,
                                                   stderr: failure.stderr, subject: .container("ccmcore-rmrace-2"))
        #expect(error.kind == .removalInProgress)
        #expect(error.summary.contains("ccmcore-rmrace-2"))
        #expect(error.hint?.isEmpty == false)
    }

    /// Captured by exec'ing in a container while it exits: Docker fails the exec with 126 and
    /// this on stdout. It is the engine's failure, and of the exec kind (a probe ends on it).
    @Test func anExecIntoAStoppingContainerIsAnExecFailure() throws {
        let failure = try Fixtures.failure(.docker, "exec-stopping")
        #expect(EngineErrorClassifier.isEngineExecFailure(engine: .docker, exitCode: failure.exitCode, stderr: failure.stderr, stdout: failure.stdout))
        let error = EngineErrorClassifier.classify(engine: .docker, command: failure.command, exitCode: failure.exitCode,
                                                   stderr: failure.stderr, stdout: failure.stdout, subject: .exec("ccmcore-execrace"))
        #expect(error.kind == .execFailed)
        #expect(error.summary.contains("ccmcore-execrace"))
    }

    @Test func hintsSayWhatToDo() throws {
        let daemon = try Fixtures.failure(.docker, "daemon-not-running")
        let error = EngineErrorClassifier.classify(engine: .docker, command: daemon.command, exitCode: daemon.exitCode,
                                                   stderr: daemon.stderr, subject: .engine)
        #expect(error.hint?.contains("systemctl start docker") == true)
        #expect(error.hint?.contains("dockerd &") == true)

        let image = try Fixtures.failure(.podman, "create-image-not-found")
        let imageError = EngineErrorClassifier.classify(engine: .podman, command: image.command, exitCode: image.exitCode,
                                                        stderr: image.stderr, subject: .container("fx-nosuch"))
        #expect(imageError.summary.contains("ccm-lua-test/nosuch:1"))
        #expect(imageError.hint?.contains("podman pull docker.io/ccm-lua-test/nosuch:1") == true)

        let conflict = try Fixtures.failure(.podman, "name-conflict")
        let conflictError = EngineErrorClassifier.classify(engine: .podman, command: conflict.command, exitCode: conflict.exitCode,
                                                           stderr: conflict.stderr, subject: .container("fx-run"))
        #expect(conflictError.hint?.contains("podman rm -f -t 0 fx-run") == true)
    }

    /// Rootless Podman on a cgroup v1 host gives containers no cgroup, so nothing can freeze
    /// them (captured on this machine as user ccm-lua-ci, Podman 4.3.1).
    @Test func pausingUnderRootlessPodmanOnCgroupV1SaysWhyAndWhatWorks() {
        let stderr = "Error: can not pause containers on rootless containers with cgroup V1: this container does not have a cgroup\n"
        let error = EngineErrorClassifier.classify(engine: .podman, command: ["podman", "pause", "c1"], exitCode: 125,
                                                   stderr: stderr, subject: .container("c1"))
        #expect(error.kind == .commandFailed)
        #expect(error.summary == "Rootless Podman cannot pause container c1: on a cgroup v1 host its containers have no cgroup to freeze.", "\(error.summary)")
        #expect(error.hint?.contains("cgroup v2") == true && error.hint?.contains("rootful") == true, "\(error.hint ?? "")")
    }

    /// A rootless container made without a network has slirp4netns's, which cannot join a
    /// network later (captured on this machine as user ccm-lua-ci, Podman 4.3.1).
    @Test func connectingARootlessContainerWithoutANetworkSaysHowToMakeIt() {
        let stderr = "Error: \"slirp4netns\" is not supported: invalid network mode\n"
        let error = EngineErrorClassifier.classify(engine: .podman, command: ["podman", "network", "connect", "net1", "c1"], exitCode: 125,
                                                   stderr: stderr, subject: .network("net1"))
        #expect(error.kind == .commandFailed)
        #expect(error.summary == "Rootless Podman cannot connect this container to network net1: it was made without a network (slirp4netns), which cannot join one later.", "\(error.summary)")
        #expect(error.hint?.contains("--network") == true, "\(error.hint ?? "")")
    }

    @Test func runtimeNotFoundNamesTheVariable() {
        let error = EngineErrorClassifier.runtimeNotFound(engine: .podman, command: ["/opt/nothing/podman", "version"], reason: "not found")
        #expect(error.kind == .runtimeNotFound)
        #expect(error.hint?.contains("CCM_LUA_RUNTIME") == true)
    }
}
