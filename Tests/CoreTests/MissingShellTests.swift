import Testing
import Core

/// A string command on an image without a shell must say so, in both engines' words.
@Suite struct MissingShellTests {
    // What each engine printed here for `exec CONTAINER sh -c ...` on ccm-lua-test/etcd-noshell:3.4.
    static let engineMessages: [(Engine, Int32, String)] = [
        (.docker, 126, "OCI runtime exec failed: exec failed: unable to start container process: exec: \"sh\": executable file not found in $PATH: unknown"),
        (.podman, 127, "Error: runc: exec failed: unable to start container process: exec: \"sh\": executable file not found in $PATH: OCI runtime attempted to invoke a command that was not found"),
    ]

    @Test(arguments: [0, 1])
    func aStringCommandOnAShellLessImageNamesTheMissingShell(_ which: Int) {
        let (engine, code, message) = Self.engineMessages[which]
        let argv = ["sh", "-c", "etcdctl get k"]
        let raw = EngineErrorClassifier.classify(engine: engine, command: [engine.rawValue, "exec", "c1"] + argv,
                                                 exitCode: code, stderr: message, subject: .exec("c1"))
        let explained = MissingShell.explain(raw, argv: argv, node: "node1") as? RuntimeError
        #expect(explained?.kind == .execFailed)
        #expect(explained?.summary == "node1's image has no /bin/sh: pass the command as an argv table, e.g. {'etcdctl', 'get', 'k'}")
        #expect(explained?.hint?.contains("sh -c") == true)
    }

    @Test func otherFailuresAreLeftAlone() {
        let (engine, code, message) = Self.engineMessages[0]
        let raw = EngineErrorClassifier.classify(engine: engine, command: ["docker", "exec", "c1", "sh"],
                                                 exitCode: code, stderr: message, subject: .exec("c1"))
        // An argv table naming `sh` itself is the user's own program: the engine's words stand.
        #expect((MissingShell.explain(raw, argv: ["sh"], node: "node1") as? RuntimeError)?.summary == raw.summary)
        let other = EngineErrorClassifier.classify(engine: engine, command: ["docker", "exec", "c1", "sh", "-c", "x"], exitCode: 126,
                                                   stderr: "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nope\": executable file not found in $PATH: unknown",
                                                   subject: .exec("c1"))
        #expect((MissingShell.explain(other, argv: ["sh", "-c", "x"], node: "node1") as? RuntimeError)?.summary == other.summary)
    }

    @Test func theExampleIsTheUsersOwnCommandWhenItIsPlainWords() {
        let shell = { (script: String) in
            let raw = RuntimeError(.execFailed, engine: .docker, summary: "x", stderr: Self.engineMessages[0].2)
            return (MissingShell.explain(raw, argv: ["sh", "-c", script], node: "n") as? RuntimeError)?.summary ?? ""
        }
        #expect(shell("etcdctl --endpoints=http://127.0.0.1:2379 put a b").hasSuffix("e.g. {'etcdctl', '--endpoints=http://127.0.0.1:2379', 'put', 'a', 'b'}"))
        #expect(shell("etcdctl get k | wc -l").hasSuffix("e.g. {'etcdctl', 'get', 'k'}"))
    }
}
