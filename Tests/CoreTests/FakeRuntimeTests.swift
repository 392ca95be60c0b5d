import Testing
import Core
import CoreTesting

/// The fake must behave like the engines where higher layers depend on it.
@Suite struct FakeRuntimeTests {
    func makeRunning(_ fake: FakeContainerRuntime, _ name: String, labels: [String: String] = [:]) async throws {
        var spec = ContainerSpec(name: name, image: "img:1")
        spec.labels = labels
        _ = try await fake.createContainer(spec)
        try await fake.start(name)
    }

    @Test func stateMachine() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        try await makeRunning(fake, "n1")
        #expect(try await fake.inspect("n1").state == .running)
        #expect(try await fake.inspect("n1").pid > 0)
        try await fake.pause("n1")
        #expect(try await fake.inspect("n1").state == .paused)
        await #expect(throws: RuntimeError.self) { try await fake.pause("n1") }
        try await fake.unpause("n1")
        try await fake.kill("n1", signal: "KILL")
        let killed = try await fake.inspect("n1")
        #expect(killed.state == .exited && killed.exitCode == 137)
        try await fake.start("n1")
        try await fake.stop("n1", timeout: 1)
        #expect(try await fake.inspect("n1").state == .exited)
        try await fake.remove("n1")
        try await fake.remove("n1")  // removing twice is fine
        await #expect { try await fake.inspect("n1") } throws: { ($0 as? RuntimeError)?.kind == .containerNotFound }
        #expect(fake.calls.map(\.method).prefix(3) == ["createContainer", "start", "inspect"])
    }

    @Test func failuresLikeTheEngines() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        try await makeRunning(fake, "n1")
        await #expect { _ = try await fake.createContainer(ContainerSpec(name: "n1", image: "img:1")) }
            throws: { ($0 as? RuntimeError)?.kind == .nameConflict }
        await #expect { _ = try await fake.createContainer(ContainerSpec(name: "n2", image: "nosuch:1")) }
            throws: { ($0 as? RuntimeError)?.kind == .imageNotFound }
        var bad = ContainerSpec(name: "n3", image: "img:1")
        bad.memory = "12zz"
        await #expect { _ = try await fake.createContainer(bad) } throws: { ($0 as? RuntimeError)?.kind == .invalidArgument }
        try await fake.stop("n1", timeout: 0)
        await #expect { _ = try await fake.exec("n1", ExecRequest(argv: ["true"])) } throws: { ($0 as? RuntimeError)?.kind == .execFailed }
        fake.failNext("start", with: .startFailed)
        await #expect { try await fake.start("n1") } throws: { ($0 as? RuntimeError)?.kind == .startFailed }
        try await fake.start("n1")
    }

    @Test func scriptedExec() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        try await makeRunning(fake, "n1")
        fake.scriptExec(["etcdctl", "member"], .result(code: 0, stdout: "3 members\n"))
        fake.scriptExec(["sleep"], .error(.timeout))
        #expect(try await fake.exec("n1", ExecRequest(argv: ["etcdctl", "member", "list"])).stdout == "3 members\n")
        #expect(try await fake.exec("n1", ExecRequest(argv: ["true"])).code == 0)
        await #expect { _ = try await fake.exec("n1", ExecRequest(argv: ["sleep", "9"])) } throws: { ($0 as? RuntimeError)?.kind == .timeout }
        #expect(fake.calls("exec").map(\.description) == ["exec n1 etcdctl member list", "exec n1 true", "exec n1 sleep 9"])
    }

    @Test func logsFollowSeesNewLinesAndEnds() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        try await makeRunning(fake, "n1")
        fake.emitLog("n1", "booting")
        var seen: [String] = []
        for try await line in fake.logs("n1", since: nil, follow: true) {
            seen.append(line.text)
            if line.text == "booting" { fake.emitLog("n1", "ready to serve client requests") }
            if line.text.contains("ready") { break }
        }
        #expect(seen == ["booting", "ready to serve client requests"])
        #expect(fake.openFollowers == 0)

        // A follower ends when the container stops.
        let stream = fake.logs("n1", since: nil, follow: true)
        fake.exitContainer("n1", code: 1)
        var count = 0
        for try await _ in stream { count += 1 }
        #expect(count == 2)
    }

    @Test func copyRoundTrip() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        try await makeRunning(fake, "n1")
        try await fake.copyIn("n1", content: Array("a=1\n".utf8), to: "/etc/x.conf")
        #expect(try await fake.copyOut("n1", from: "/etc/x.conf") == Array("a=1\n".utf8))
    }

    @Test func cleanupRemovesOnlyLabelledResources() async throws {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let ours = Labels.forResource(cluster: "c1")
        try await makeRunning(fake, "ours-1", labels: ours)
        try await makeRunning(fake, "ours-2", labels: ours.merging([Labels.node: "n2"]) { $1 })
        try await makeRunning(fake, "theirs", labels: ["app": "web"])
        try await makeRunning(fake, "other-cluster", labels: Labels.forResource(cluster: "c2"))
        try await fake.createNetwork(NetworkSpec(name: "net-c1", labels: ours))
        try await fake.createNetwork(NetworkSpec(name: "net-theirs", labels: ["app": "web"]))
        try await fake.createVolume(VolumeSpec(name: "vol-c1", labels: ours))

        let report = try await ResourceCleanup.removeAll(matching: [Labels.cluster: "c1", Labels.run: Labels.runID], in: fake)
        #expect(report.containers == ["ours-1", "ours-2"])
        #expect(report.networks == ["net-c1"])
        #expect(report.volumes == ["vol-c1"])
        #expect(report.failures.isEmpty)
        #expect(fake.containerNames == ["other-cluster", "theirs"])
        #expect(fake.networkNames == ["net-theirs"])

        await #expect { try await ResourceCleanup.removeAll(matching: ["app": "web"], in: fake) }
            throws: { ($0 as? RuntimeError)?.kind == .invalidArgument }
        await #expect { try await ResourceCleanup.removeAll(matching: [:], in: fake) }
            throws: { ($0 as? RuntimeError)?.kind == .invalidArgument }
        #expect(fake.containerNames == ["other-cluster", "theirs"])
    }

    @Test func labels() {
        #expect(Labels.runID.count == 12)
        #expect(Labels.runID.allSatisfy { $0.isHexDigit })
        let labels = Labels.forResource(cluster: "c", node: "n")
        #expect(labels == ["ccm-lua.cluster": "c", "ccm-lua.node": "n", "ccm-lua.run": Labels.runID,
                           "ccm-lua.owner-pid": Labels.ownerPIDValue, "ccm-lua.owner-host": Labels.hostIdentity])
        #expect(Labels.selectsOnlyOurs(["ccm-lua.run": "x"]))
        #expect(!Labels.selectsOnlyOurs(["app": "x"]))
    }
}
