import Foundation
import Testing

/// What a user sees when something is wrong: the message, the exit status, nothing more cryptic.
@Suite struct ErrorReportingTests {
    @Test func missingScriptFile() async throws {
        let result = try await CLI.run(["/no/such/scenario.lua"])
        #expect(result.status == 1)
        #expect(result.stderr == "ccm-lua: cannot run '/no/such/scenario.lua': no such file\n")
    }

    @Test func syntaxErrorNamesFileAndLineAndRunsNothing() async throws {
        let dir = try CLI.folder(["bad.lua": "print('ran')\nlocal x = = 1\n"])
        let result = try await CLI.run(["\(dir)/bad.lua"])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("ccm-lua: \(dir)/bad.lua:2: unexpected symbol near '='"), "\(result.stderr)")
    }

    @Test func runtimeErrorPrintsPositionAndTraceback() async throws {
        let dir = try CLI.folder(["fail.lua": "local function f()\n  error('it broke')\nend\nf()\n"])
        let result = try await CLI.run(["fail.lua"], directory: dir)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("ccm-lua: fail.lua:2: it broke\nstack traceback:\n"), "\(result.stderr)")
        #expect(result.stderr.contains("fail.lua:4: in main chunk"))
    }

    /// The built-in library's own frames are noise to a script's author: the traceback shows the
    /// script's lines only, says how many it hid, and CCM_LUA_DEBUG=1 shows them all.
    @Test func tracebackHidesTheBuiltInLibrary() async throws {
        let dir = try CLI.folder(["wrong.lua": "local function check()\n  wait_until(42)\nend\ncheck()\n"])
        let result = try await CLI.run(["wrong.lua"], directory: dir)
        #expect(result.status == 1)
        #expect(result.stderr == """
            ccm-lua: wrong.lua:2: bad argument #1 to 'wait_until' (function expected, got number)
            stack traceback:
            \twrong.lua:2: in local 'check'
            \twrong.lua:4: in main chunk
            \t(4 frames of the built-in library hidden; CCM_LUA_DEBUG=1 shows them)

            """, "\(result.stderr)")

        let full = try await CLI.run(["wrong.lua"], environment: ["CCM_LUA_DEBUG": "1"], directory: dir)
        #expect(full.status == 1)
        #expect(full.stderr.contains("\tbuiltin/ccm/errors.lua:"), "\(full.stderr)")
        #expect(full.stderr.contains("\twrong.lua:4: in main chunk"))
        #expect(!full.stderr.contains("hidden"))

        let verbose = try await CLI.run(["-v", "wrong.lua"], directory: dir)
        #expect(verbose.stderr.contains("\tbuiltin/ccm/wait.lua:"), "\(verbose.stderr)")
    }

    @Test(arguments: [
        ("error({})", "ccm-lua: (command line):1: (error object is a table value)"),
        ("error(nil)", "ccm-lua: (command line):1: (error object is a nil value)"),
        ("error(42)", "ccm-lua: 42"),
        ("error(setmetatable({}, {__tostring = function() return 'custom' end}))", "ccm-lua: custom"),
        ("sleep('soon')", "ccm-lua: (command line):1: bad argument #1 to 'sleep' (number expected, got string)"),
    ])
    func oddErrorValuesStillReadAsText(code: String, firstLine: String) async throws {
        let result = try await CLI.run(["-e", code])
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").first.map(String.init) == firstLine, "\(result.stderr)")
        #expect(!result.stderr.contains("not a string"))
    }

    @Test func stackOverflowIsAnOrdinaryError() async throws {
        let result = try await CLI.run(["-e", "local function f() return 1 + f() end f()"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("ccm-lua: (command line):1: stack overflow"), "\(result.stderr.prefix(200))")
    }

    @Test func failedStepIsNamed() async throws {
        let result = try await CLI.run(["-e", "log.step('create cluster', function() error('no image') end)"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("✗ step 'create cluster' failed"), "\(result.stderr)")
        #expect(result.stderr.contains("ccm-lua: (command line):1: no image"))
    }

    @Test func unknownOptionIsAUsageError() async throws {
        let result = try await CLI.run(["--frobnicate"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("unrecognized option '--frobnicate'"))
    }

    /// The script prints "ready" once it is parked, so the test sends the signal only then.
    @Test(arguments: [("INT", SIGINT, Int32(130)), ("TERM", SIGTERM, Int32(143))])
    func signalInterruptsRunsCleanupAndExits(name: String, signal: Int32, expected: Int32) async throws {
        let script = """
            require("ccm").on_exit(function() print("cleanup ran") end)
            io.write("ready\\n"); io.stdout:flush()
            while true do end
            """
        let (status, output, stderr) = try await CLI.offPool { () throws -> (Int32, String, String) in
            let (process, out, errorFile) = try CLI.start(["-e", script])
            let reader = out.fileHandleForReading
            var seen = Data()
            while !String(decoding: seen, as: UTF8.self).contains("ready\n") {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                seen.append(chunk)
            }
            kill(process.processIdentifier, signal)
            seen.append(reader.readDataToEndOfFile())
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: seen, as: UTF8.self),
                    (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "")
        }
        #expect(status == expected, "\(name): \(stderr)")
        #expect(output.contains("cleanup ran"))
        #expect(stderr == "ccm-lua: interrupted at (command line):3\n", "\(stderr)")
    }

    /// Ctrl-C names what the script was waiting for, where, and in which step; with `parallel`,
    /// each branch's call. (The calls are taken when the interrupt is noticed, before the
    /// cancelled ones return: repeated, as that was a race.)
    /// "ready" is printed once the calls are made (a `parallel` branch runs when the ones before
    /// it wait).
    @Test(arguments: [
        ("log.step(\"load data\", function()\n  ready()\n  sleep(600)\nend)\n",
         "ccm-lua: interrupted in 'sleep' at wait.lua:5 (step 'load data')\n"),
        ("parallel(function() sleep(600) end,\n  function() log.step(\"poll\", function() sleep(700) end) end,\n  ready)\n",
         "ccm-lua: interrupted in:\n  'sleep' at wait.lua:3\n  'sleep' at wait.lua:4 (step 'poll')\n"),
    ] + Array(repeating: ("ready()\nsleep(600)\n", "ccm-lua: interrupted in 'sleep' at wait.lua:4\n"), count: 3))
    func interruptNamesTheCallAndTheStep(body: String, expected: String) async throws {
        let dir = try CLI.folder(["wait.lua": "local function ready() io.write(\"ready\\n\"); io.stdout:flush() end\n\n" + body])
        let (status, stderr) = try await CLI.offPool { () throws -> (Int32, String) in
            let (process, out, errorFile) = try CLI.start(["-q", "-q", "wait.lua"], directory: dir)
            let reader = out.fileHandleForReading
            var seen = Data()
            while !String(decoding: seen, as: UTF8.self).contains("ready\n") {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                seen.append(chunk)
            }
            kill(process.processIdentifier, SIGINT)
            process.waitUntilExit()
            return (process.terminationStatus, (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "")
        }
        #expect(status == 130)
        #expect(stderr == expected, "\(stderr)")
    }
}
