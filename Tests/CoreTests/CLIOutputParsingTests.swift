import Testing
import Core

/// Parsing of real `docker`/`podman` output (see Fixtures/capture.sh for how each was made).
@Suite struct CLIOutputParsingTests {
    @Test func dockerVersion() throws {
        let version = try CLIOutput.version(Fixtures.bytes(.docker, "version.json"))
        #expect(version.client == "28.2.2")
        #expect(version.server == "20.10.24+dfsg1")
        let down = try CLIOutput.version(Fixtures.bytes(.docker, "version-nodaemon.json"))
        #expect(down.client == "28.2.2")
        #expect(down.server == nil)
    }

    @Test func podmanVersion() throws {
        let version = try CLIOutput.version(Fixtures.bytes(.podman, "version.json"))
        #expect(version.client == "4.3.1")
        #expect(version.server == nil, "local podman prints no Server part")
    }

    @Test(arguments: Engine.allCases)
    func imageInspect(engine: Engine) throws {
        let image = try CLIOutput.image(Fixtures.bytes(engine, "image-inspect.json"))
        #expect(image.id.hasPrefix("sha256:"))
        #expect(image.id.count == 71)
        #expect(image.tags.contains { $0.hasSuffix("ccm-lua-test/base:bookworm") })
        if engine == .podman {
            #expect(image.digest?.hasPrefix("sha256:") == true)
            #expect(image.repoDigests.count == 1)
        } else {
            #expect(image.repoDigests.isEmpty, "a locally imported image has no repo digest in Docker")
        }
    }

    @Test(arguments: Engine.allCases)
    func inspectRunningContainer(engine: Engine) throws {
        let info = try CLIOutput.containerInfo(Fixtures.bytes(engine, "inspect-running.json"))
        #expect(info.name == "fx-run")
        #expect(info.id.count == 64)
        #expect(info.state == .running)
        #expect(info.pid > 0)
        #expect(info.exitCode == 0)
        #expect(info.imageID.hasPrefix("sha256:"))
        #expect(info.image.hasSuffix("ccm-lua-test/base:bookworm"))
        #expect(info.startedAt.hasPrefix("20"))
        #expect(info.ipAddresses["fx-net"]?.hasPrefix("10.213.7.") == true)
        #expect(info.labels["ccm-lua.cluster"] == "fixtures")
        #expect(info.labels["ccm-lua.node"] == "n1")
    }

    @Test(arguments: Engine.allCases)
    func inspectOtherStates(engine: Engine) throws {
        let exited = try CLIOutput.containerInfo(Fixtures.bytes(engine, "inspect-exited.json"))
        #expect(exited.state == .exited)
        #expect(exited.exitCode == 3)
        #expect(exited.pid == 0)
        #expect(exited.ipAddresses.isEmpty, "a stopped container has no address")

        let created = try CLIOutput.containerInfo(Fixtures.bytes(engine, "inspect-created.json"))
        #expect(created.state == .created)
        #expect(created.startedAt == "", "the engines' zero time means never started")

        let paused = try CLIOutput.containerInfo(Fixtures.bytes(engine, "inspect-paused.json"))
        #expect(paused.state == .paused)
        #expect(paused.pid > 0)
    }

    /// Docker prints one object per line with labels as `k=v,k=v`; Podman one array with objects.
    @Test(arguments: Engine.allCases)
    func containerList(engine: Engine) throws {
        let list = try CLIOutput.containerList(Fixtures.bytes(engine, "ps.json"))
        #expect(list.count == 4)
        let byName = Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
        #expect(Set(byName.keys) == ["fx-run", "fx-created", "fx-exited", "fx-paused"])
        #expect(byName["fx-run"]?.state == .running)
        #expect(byName["fx-created"]?.state == .created)
        #expect(byName["fx-exited"]?.state == .exited)
        #expect(byName["fx-paused"]?.state == .paused)
        #expect(byName["fx-run"]?.labels["ccm-lua.node"] == "n1")
        #expect(list.allSatisfy { $0.labels["ccm-lua.cluster"] == "fixtures" && $0.id.count == 64 })
        #expect(try CLIOutput.containerList(Fixtures.bytes(engine, "ps-empty.json")).isEmpty)
    }

    @Test(arguments: Engine.allCases)
    func networkAndVolumeLists(engine: Engine) throws {
        #expect(try CLIOutput.names(Fixtures.bytes(engine, "network-ls.json"), what: "network list") == ["fx-net"])
        #expect(try CLIOutput.names(Fixtures.bytes(engine, "volume-ls.json"), what: "volume list") == ["fx-vol"])
    }

    @Test(arguments: Engine.allCases)
    func timestampedLogs(engine: Engine) throws {
        let text = String(decoding: try Fixtures.bytes(engine, "logs.txt"), as: UTF8.self)
        let lines = text.split(separator: "\n").compactMap(CLIOutput.logLine)
        #expect(lines.map(\.text) == ["started"])
        #expect(lines[0].timestamp.hasSuffix("Z"))
        #expect(lines[0].timestamp.count == 30, "nanosecond precision: \(lines[0].timestamp)")
        let stderr = String(decoding: try Fixtures.bytes(engine, "logs-stderr.txt"), as: UTF8.self)
        #expect(stderr.split(separator: "\n").compactMap(CLIOutput.logLine).map(\.text) == ["warn"])
    }

    @Test func logLineEdgeCases() {
        #expect(CLIOutput.logLine("Error: no such container") == nil)
        #expect(CLIOutput.logLine("2026-11-21T20:16:04.459883408Z") == LogLine(timestamp: "2026-11-21T20:16:04.459883408Z", text: ""))
        #expect(CLIOutput.logLine("2026-11-21T20:16:04.459883408Z  two spaces")?.text == " two spaces")
        #expect(CLIOutput.logLine("2026-11-21T20:16:04.459883408+00:00 offset")?.text == "offset")
    }

    @Test func timestampsCompareAcrossFractionLengths() {
        #expect(CLIOutput.sortableTimestamp("2026-11-21T20:16:04.4598834Z") == "2026-11-21T20:16:04.459883400Z")
        #expect(CLIOutput.sortableTimestamp("2026-11-21T20:16:04Z") == "2026-11-21T20:16:04.000000000Z")
        #expect(CLIOutput.sortableTimestamp("2026-11-21T20:16:04.45Z") < CLIOutput.sortableTimestamp("2026-11-21T20:16:04.459Z"))
    }

    @Test func dockerLabelStringWithCommasInValues() throws {
        let line = #"{"ID":"abc","Names":"n1","State":"running","Labels":"a=1,list=x,y,z,b=2"}"#
        let list = try CLIOutput.containerList(Array(line.utf8))
        #expect(list[0].labels == ["a": "1", "list": "x,y,z", "b": "2"])
    }

    @Test func unreadableOutputSaysWhat() {
        #expect(throws: CLIOutput.ParseError.self) { try CLIOutput.containerInfo(Array("not json".utf8)) }
        do {
            _ = try CLIOutput.version(Array("{}".utf8))
            Issue.record("expected a parse error")
        } catch {
            #expect("\(error)".contains("version"))
        }
    }

    @Test func engineStateWords() {
        #expect(ContainerState(engineText: "configured") == .created)
        #expect(ContainerState(engineText: "stopped") == .exited)
        #expect(ContainerState(engineText: "Exited") == .exited)
        #expect(ContainerState(engineText: "paused") == .paused)
    }
}
