import Foundation
import Testing
import Core

extension EngineTests {
    @Test(arguments: Engine.allCases)
    func execResults(engine: Engine) async throws {
        let runtime = try await Integration.chosenRuntime(engine)
        try await Integration.withScope(runtime, "exec") { scope in
            let name = try await scope.run("n1")

            let ok = try await runtime.exec(name, ExecRequest(argv: ["sh", "-c", "echo out; echo err >&2"]))
            #expect(ok.code == 0)
            #expect(ok.stdout == "out\n")
            #expect(ok.stderr == "err\n")
            #expect(ok.duration > 0)

            // A program's own failure is a result, not an error, even with the engines' own codes.
            #expect(try await runtime.exec(name, ExecRequest(argv: ["sh", "-c", "exit 3"])).code == 3)
            let missing = try await runtime.exec(name, ExecRequest(argv: ["sh", "-c", "no-such-program"]))
            #expect(missing.code == 127)
            #expect(missing.stderr.contains("not found"))

            var request = ExecRequest(argv: ["sh", "-c", "cat; echo; id -un; pwd; echo $X"])
            request.stdin = Array("from stdin".utf8)
            request.user = "nobody"
            request.workdir = "/var"
            request.env = ["X": "x value"]
            let full = try await runtime.exec(name, request)
            #expect(full.stdout == "from stdin\nnobody\n/var\nx value\n")

            // The engine cannot run the program at all: that is an error.
            await expectRuntimeError(.execFailed) { _ = try await runtime.exec(name, ExecRequest(argv: ["no-such-binary"])) }
        }
    }

    @Test(arguments: Engine.allCases)
    func execTimeoutKillsTheProcess(engine: Engine) async throws {
        let runtime = try await Integration.chosenRuntime(engine)
        try await Integration.withScope(runtime, "timeout") { scope in
            let name = try await scope.run("n1")
            var request = ExecRequest(argv: ["sh", "-c", "sleep 417; echo never"])
            request.timeout = 1
            let started = ContinuousClock.now
            let error = await expectRuntimeError(.timeout) { _ = try await runtime.exec(name, request) }
            // Far below the command's 417 s; the kill inside the container is itself an exec.
            #expect(ContinuousClock.now - started < .seconds(30))
            #expect(error?.summary.contains("sleep 417") == true)

            // Nothing of it is left running in the container.
            let listing = ExecRequest(argv: ["sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\000' ' '"])
            let gone = try await eventually(30) {
                !(try await runtime.exec(name, listing).stdout.contains("sleep 417"))
            }
            #expect(gone, "the timed-out command still runs in the container")
        }
    }

    @Test(arguments: Engine.allCases)
    func logsFollowSeesNewLinesAndLeavesNoProcess(engine: Engine) async throws {
        let runtime = try await Integration.chosenRuntime(engine)
        try await Integration.withScope(runtime, "logs") { scope in
            let script = "echo first; echo to-stderr >&2; while [ ! -f /tmp/go ]; do sleep 0.1; done; echo after-follow-began; sleep 1000"
            let name = try await scope.run("n1", command: ["sh", "-c", script])

            var seen: [LogLine] = []
            for try await line in runtime.logs(name, since: nil, follow: true) {
                seen.append(line)
                if line.text == "first" {
                    // Printed only after following began.
                    _ = try await runtime.exec(name, ExecRequest(argv: ["touch", "/tmp/go"]))
                }
                if line.text == "after-follow-began" { break }
            }
            #expect(seen.map(\.text).contains("first"))
            #expect(seen.map(\.text).contains("to-stderr"))
            #expect(seen.last?.text == "after-follow-began")
            #expect(seen.allSatisfy { $0.timestamp.count >= 20 })

            // The consumer stopped: the `logs --follow` client (or, where Podman's log file is read
            // directly, the `podman wait` that tells when the container stops) must be gone.
            let me = ProcessInfo.processInfo.processIdentifier
            let noFollower = await eventually(30) {
                !HostProcesses.children(of: me).contains {
                    ($0.commandLine.contains(" logs ") || $0.commandLine.contains(" wait ")) && $0.commandLine.contains(name)
                }
            }
            #expect(noFollower, "a `\(engine.rawValue) logs --follow` process was left behind")

            // Resuming from a timestamp gives only the lines after it, on both engines. (From the
            // "first" line's own time: stdout and stderr are stamped apart, so the stderr line may
            // arrive first, and earlier.)
            let firstLine = try #require(seen.first { $0.text == "first" })
            var resumed: [String] = []
            for try await line in runtime.logs(name, since: firstLine.timestamp, follow: false) { resumed.append(line.text) }
            #expect(!resumed.contains("first"))
            #expect(resumed.contains("after-follow-began"))
            var nothingNew: [String] = []
            for try await line in runtime.logs(name, since: seen.last!.timestamp, follow: false) { nothingNew.append(line.text) }
            #expect(nothingNew.isEmpty)

            // A follower ends by itself when the container stops: killed once the follower has
            // received a line (so it is attached), the stream must finish.
            let (attached, attachedContinuation) = AsyncStream.makeStream(of: Void.self)
            let follower = Task {
                var count = 0
                for try await _ in runtime.logs(name, since: nil, follow: true) {
                    count += 1
                    if count == 1 { attachedContinuation.yield(); attachedContinuation.finish() }
                }
                return count
            }
            for await _ in attached { break }
            try await runtime.kill(name, signal: "KILL")
            let count = try await follower.value
            #expect(count >= 3)

            await expectRuntimeError(.containerNotFound) {
                for try await _ in runtime.logs(scope.name("nosuch"), since: nil, follow: false) {}
            }
        }
    }
}
