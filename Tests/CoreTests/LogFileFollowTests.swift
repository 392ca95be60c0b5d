import Foundation
import Testing
@testable import Core

/// Following a Podman `k8s-file` log read from the host, with a stand-in `podman` client (a shell
/// script): it names the log file for `container inspect` and, for `wait`, returns once a stop
/// file appears, as `podman wait` returns when the container stops.
@Suite struct LogFileFollowTests {
    /// A quiet container must cost nothing: the follower sleeps until the file is written to.
    @Test func followerSleepsWhileNothingIsWritten() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-follow-\(UInt64.random(in: .min ... .max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let logFile = dir.appendingPathComponent("ctr.log").path
        let stopFile = dir.appendingPathComponent("stopped").path
        let client = dir.appendingPathComponent("podman").path
        try """
            #!/bin/sh
            case "$1" in
              container) printf 'k8s-file\\t%s\\n' "$FAKE_LOG" ;;
              wait) while [ ! -e "$FAKE_STOP" ]; do sleep 0.05; done; echo 0 ;;
              *) echo "unexpected: $*" >&2; exit 2 ;;
            esac
            """.write(toFile: client, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: client)
        func append(_ text: String) throws {
            let handle = try #require(FileHandle(forWritingAtPath: logFile))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("2026-11-28T08:00:00.000000000+00:00 stdout F \(text)\n".utf8))
        }
        FileManager.default.createFile(atPath: logFile, contents: nil)
        try append("one")

        let runtime = CLIContainerRuntime(engine: .podman, executable: client,
                                          environment: ["FAKE_LOG": logFile, "FAKE_STOP": stopFile])
        #expect(runtime.readsLogFilesDirectly)
        let (received, receivedContinuation) = AsyncStream.makeStream(of: String.self)
        let follower = Task {
            for try await line in runtime.logs("quiet", since: nil, follow: true) { receivedContinuation.yield(line.text) }
            receivedContinuation.finish()
        }
        var lines = received.makeAsyncIterator()
        #expect(await lines.next() == "one")

        // The window in which nothing is written: what is measured, not a wait for something.
        try await Task.sleep(for: .seconds(2.5))
        try append("two")
        #expect(await lines.next() == "two")
        #expect(CLIContainerRuntime.emptyWakeups(of: logFile) == 0, "the follower woke while the file was not written to")

        // The container stops: the stream ends by itself.
        FileManager.default.createFile(atPath: stopFile, contents: nil)
        #expect(await lines.next() == nil)
        try await follower.value
    }
}
