import Foundation
import Testing
@testable import Core
import CoreTesting

/// The node log file against a scripted engine: every line the container printed is in the file
/// exactly once, also when the engine stamps a batch of lines with one time (Podman), when the
/// stream resumes (a restart, another process), and waits end as soon as the container stopped.
@Suite struct NodeLogTests {
    struct Setup {
        let fake = FakeContainerRuntime(images: ["img:1"])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-nodelog-\(UUID().uuidString)")
        var file: URL { folder.appendingPathComponent("logs/node.log") }

        func running(_ name: String = "c1") async throws -> String {
            _ = try await fake.createContainer(ContainerSpec(name: name, image: "img:1"))
            try await fake.start(name)
            return name
        }

        func log(_ container: String = "c1") -> NodeLog { NodeLog(file: file, runtime: fake, container: container) }

        /// The file's lines as stored (timestamp and text).
        func stored() throws -> [String] {
            try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
        }

        func remove() { try? FileManager.default.removeItem(at: folder) }
    }

    static func pattern(_ text: String) throws -> LogPattern { try LogPattern(text, plain: true) }

    @Test func aBatchOfIdenticalLinesWithOneTimestampIsKeptWhole() async throws {
        let s = Setup()
        defer { s.remove() }
        let c = try await s.running()
        let log = s.log()
        log.follow()
        s.fake.emitBatch(c, "same-line", "same-line", "same-line", "same-line", "same-line")
        s.fake.emitLog(c, "done-marker")
        _ = try await log.wait(for: Self.pattern("done-marker"), timeout: 20, nodeName: "node1")
        #expect(try log.grep(Self.pattern("same-line")).count == 5)
        let counted = try await log.wait(for: Self.pattern("same-line"), count: 5, timeout: 5, nodeName: "node1")
        #expect(counted.count == 5)
        await log.stopFollowing()
    }

    /// Another process wrote the first two lines of a batch and ended; this one resumes at the
    /// batch's timestamp and must add exactly the three it lacks, nothing older twice.
    @Test func aResumedStreamSkipsByPositionWithinABatch() async throws {
        let s = Setup()
        defer { s.remove() }
        let c = try await s.running()
        s.fake.emitLog(c, "before")
        s.fake.emitBatch(c, "same-line", "same-line", "same-line", "same-line", "same-line")
        s.fake.emitLog(c, "done-marker")
        let engine = try #require(s.fake.container(c)).logs
        let batch = engine[1].timestamp
        try FileManager.default.createDirectory(at: s.file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "\(engine[0].timestamp) before\n\(batch) same-line\n\(batch) same-line\n".write(to: s.file, atomically: true, encoding: .utf8)

        let log = s.log()
        await log.catchUp()
        #expect(try s.stored() == engine.map { "\($0.timestamp) \($0.text)" })
        // The resumed request asks from just before the batch, so the engine sends it again.
        let since = try #require(s.fake.calls("logs").last?.arguments.last)
        #expect(since < batch)
    }

    @Test func aRestartResumesWithoutLosingOrRepeatingLines() async throws {
        let s = Setup()
        defer { s.remove() }
        let c = try await s.running()
        let log = s.log()
        log.follow()
        s.fake.emitBatch(c, "same-line", "same-line", "same-line", "same-line", "same-line")
        s.fake.emitLog(c, "done-marker")
        _ = try await log.wait(for: Self.pattern("done-marker"), timeout: 20, nodeName: "node1")
        try await s.fake.stop(c, timeout: 1)
        try await s.fake.start(c)
        log.follow()
        s.fake.emitBatch(c, "same-line", "same-line", "same-line", "same-line", "same-line")
        s.fake.emitLog(c, "done-marker")
        _ = try await log.wait(for: Self.pattern("done-marker"), count: 2, timeout: 20, nodeName: "node1")
        #expect(try log.grep(Self.pattern("same-line")).count == 10)
        #expect(try s.stored() == s.fake.container(c)!.logs.map { "\($0.timestamp) \($0.text)" })
        await log.stopFollowing()
    }

    @Test func positionCountsTheLinesOfTheNewestTimestamp() {
        var p = LogPosition()
        let t1 = LogTimestamp("2026-01-01T00:00:01.5Z"), t2 = LogTimestamp("2026-01-01T00:00:02Z")
        p.wrote(t1); p.wrote(t2); p.wrote(t1)   // slightly out of order: stderr stamped apart
        p.wrote(t2)
        #expect(p.newest == t2 && p.linesAtNewest == 2)
        var resume = p.resume()
        let admitted = [t1, t2, t2, t2, LogTimestamp("2026-01-01T00:00:03Z")].map { resume.admits($0) }
        // Older: had. The first two of the newest time: had. A third of that time and later: new.
        #expect(admitted == [false, false, false, true, true])
    }

    @Test(arguments: [
        ("2026-01-01T00:00:00.000000001Z", "2026-01-01T00:00:00.000000000Z"),
        ("2026-03-01T00:00:00Z", "2026-02-28T23:59:59.999999999Z"),
        ("2024-03-01T00:00:00Z", "2024-02-29T23:59:59.999999999Z"),
        ("2026-11-21T20:12:06.5+01:00", "2026-11-21T20:12:06.499999999+01:00"),
        ("2026-01-01T00:30:00-02:00", "2026-01-01T00:29:59.999999999-02:00"),
    ])
    func oneNanosecondEarlier(_ text: String, _ expected: String) throws {
        let stamp = try #require(LogTimestamp(text))
        let earlier = stamp.advanced(byNanoseconds: -1)
        #expect(earlier.text == expected)
        #expect(earlier < stamp && LogTimestamp(expected) == earlier)
    }

    /// A node log of another process (no follower here) reads its last position from the file.
    @Test func theFileTellsWhereToResume() throws {
        let s = Setup()
        defer { s.remove() }
        try FileManager.default.createDirectory(at: s.file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "2026-01-01T00:00:01Z a\n2026-01-01T00:00:02Z b\n2026-01-01T00:00:02Z b\n2026-01-01T00:00:01.9Z late\n"
            .write(to: s.file, atomically: true, encoding: .utf8)
        let p = NodeLog.position(of: s.file)
        #expect(p.newest == LogTimestamp("2026-01-01T00:00:02Z") && p.linesAtNewest == 2)
    }

    // MARK: Waits on a stopped container

    @Test(arguments: [true, false])
    func aWaitOnAContainerThatExitedEndsAtOnce(following: Bool) async throws {
        let s = Setup()
        defer { s.remove() }
        let c = try await s.running()
        let log = s.log()
        if following { log.follow() }
        s.fake.emitLog(c, "starting", "fatal: bad config")
        let began = ContinuousClock.now
        let waiting = Task { try await log.wait(for: Self.pattern("never printed"), timeout: 60, nodeName: "node1") }
        s.fake.exitContainer(c, code: 3)
        let outcome = await waiting.result
        let error = try #require(outcome.failure as? ClusterError, "\(outcome)")
        #expect(ContinuousClock.now - began < .seconds(10))
        #expect(error.kind == .exited)
        #expect(error.exitCode == 3)
        #expect(error.node == "node1")
        #expect(error.message.contains("node1") && error.message.contains("code 3"))
        #expect(error.lastLines.contains { $0.contains("fatal: bad config") })
    }

    @Test func aMatchAlreadyInTheLogOfAStoppedContainerIsFound() async throws {
        let s = Setup()
        defer { s.remove() }
        let c = try await s.running()
        let log = s.log()
        log.follow()
        s.fake.emitLog(c, "the line")
        _ = try await log.wait(for: Self.pattern("the line"), timeout: 20, nodeName: "node1")
        s.fake.exitContainer(c, code: 0)
        #expect(try await log.wait(for: Self.pattern("the line"), timeout: 20, nodeName: "node1") == ["the line"])
    }

    /// Nobody copied the last lines (no follower anywhere): the wait copies them before judging.
    @Test func theLastLinesOfAStoppedContainerAreReadBeforeFailing() async throws {
        let s = Setup()
        defer { s.remove() }
        let c = try await s.running()
        s.fake.emitLog(c, "starting", "the awaited line")
        s.fake.exitContainer(c, code: 0)
        #expect(try await s.log().wait(for: Self.pattern("the awaited line"), timeout: 20, nodeName: "node1") == ["the awaited line"])
    }

    /// A container never started may be started by a parallel branch: the wait goes on.
    @Test func aWaitOnACreatedContainerWaitsForItsStart() async throws {
        let s = Setup()
        defer { s.remove() }
        _ = try await s.fake.createContainer(ContainerSpec(name: "c1", image: "img:1"))
        let log = s.log()
        let waiting = Task { try await log.wait(for: Self.pattern("up"), timeout: 30, nodeName: "node1") }
        try await s.fake.start("c1")
        log.follow()
        s.fake.emitLog("c1", "up")
        #expect(try await waiting.value == ["up"])
        await log.stopFollowing()
    }
}

extension Result {
    var failure: Failure? { if case .failure(let error) = self { return error } else { return nil } }
}
