import Foundation
import Testing

/// `ccm-lua test` and `ccm-lua FILE` with describe/it, as a user runs them (no engine needed:
/// these tests create no cluster). What is checked is what people and CI tools read.
@Suite struct TestRunnerTests {
    /// One test of each ending.
    static let mixed = """
        describe("suite", function()
          it("passes", function() assert.are.equal(2, 1 + 1) end)
          it("fails", function() assert.equal(3, 1 + 1) end)
          it("errors", function() local t = nil; return t.field end)
          pending("is pending")
          it("hangs", { timeout = 0.3 }, function()
            log.step("wait for ever", function() sleep(60) end)
          end)
        end)
        """

    /// A folder with `files`, removed after `body`.
    static func withFolder<T>(_ files: [String: String], _ body: (String) async throws -> T) async throws -> T {
        let dir = try CLI.folder(files)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try await body(dir)
    }

    @Test func eachEndingHasItsLineAndTheRunFails() async throws {
        try await Self.withFolder(["mixed_spec.lua": Self.mixed]) { dir in
            let result = try await CLI.run(["test", "-o", "plain", "mixed_spec.lua"], directory: dir)
            #expect(result.status == 1, "\(result.stderr)")
            let out = result.stdout
            #expect(out.contains("ok      mixed_spec.lua: suite passes ("))
            #expect(out.contains("FAILED  mixed_spec.lua: suite fails ("))
            #expect(out.contains("    mixed_spec.lua:3: expected 3, got 2"), "\(out)")
            #expect(out.contains("ERROR   mixed_spec.lua: suite errors ("))
            #expect(out.contains("mixed_spec.lua:4: attempt to index a nil value (local 't')"))
            #expect(out.contains("PENDING mixed_spec.lua: suite is pending"))
            #expect(out.contains("TIMEOUT mixed_spec.lua: suite hangs ("))
            #expect(out.contains("the test timed out after 0.3 s"))
            // Where it hung: the traceback of the test at the moment of the timeout.
            #expect(out.contains("[C]: in function 'sleep'"), "\(out)")
            #expect(out.contains("mixed_spec.lua:7:"))
            #expect(out.contains("1 passed, 1 failed, 1 errored, 1 timed out, 1 pending in "))
            #expect(out.contains("(seed "))
        }
    }

    /// A loop that never waits cannot be caught by the watchdog branch; the host's deadline stops
    /// it inside the loop, again after a pcall caught it once, and the run goes on.
    @Test func aLoopThatNeverWaitsTimesOutAndTheRunGoesOn() async throws {
        try await Self.withFolder(["spin_spec.lua": """
            describe("busy", function()
              it("spins", { timeout = 0.3 }, function()
                local n = 0
                while true do n = n + 1 end
              end)
              it("catches", { timeout = 0.3 }, function()
                local ok, err = pcall(function() while true do end end)
                while true do end -- the error a pcall caught comes again
              end)
              it("runs after", function() assert.truthy(true) end)
            end)
            """]) { dir in
            let result = try await CLI.run(["test", "-o", "plain", "spin_spec.lua"], directory: dir)
            #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
            let out = result.stdout
            #expect(out.contains("TIMEOUT spin_spec.lua: busy spins ("), "\(out)")
            #expect(out.contains("TIMEOUT spin_spec.lua: busy catches ("), "\(out)")
            #expect(out.contains("the test timed out after 0.3 s"), "\(out)")
            #expect(out.contains("spin_spec.lua:4:"), "where it spun: \(out)")
            #expect(out.contains("ok      spin_spec.lua: busy runs after ("), "\(out)")
            #expect(out.contains("1 passed, 2 timed out in "), "\(out)")
        }
    }

    @Test func passingAndPendingTestsExitZero() async throws {
        try await Self.withFolder(["ok_spec.lua": """
            describe("fine", function()
              it("passes", function() assert.truthy(1) end)
              it("is not written yet")
            end)
            """]) { dir in
            let result = try await CLI.run(["test", "-o", "plain", "."], directory: dir)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("1 passed, 1 pending in "))
        }
    }

    @Test func tapNamesEveryEnding() async throws {
        try await Self.withFolder(["mixed_spec.lua": Self.mixed]) { dir in
            let result = try await CLI.run(["test", "-o", "tap", "mixed_spec.lua"], directory: dir)
            #expect(result.status == 1)
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "TAP version 13")
            #expect(lines.contains("1..5"))
            #expect(lines.contains("ok 1 - mixed_spec.lua: suite passes"))
            #expect(lines.contains("not ok 2 - mixed_spec.lua: suite fails"))
            #expect(lines.contains("not ok 3 - mixed_spec.lua: suite errors"))
            #expect(lines.contains("ok 4 - mixed_spec.lua: suite is pending # SKIP pending"))
            #expect(lines.contains("not ok 5 - mixed_spec.lua: suite hangs"))
            #expect(lines.contains("  status: timed_out"))
        }
    }

    @Test func jsonCountsAndFields() async throws {
        try await Self.withFolder(["mixed_spec.lua": Self.mixed]) { dir in
            let result = try await CLI.run(["test", "-o", "json", "--seed", "99", "mixed_spec.lua"], directory: dir)
            #expect(result.status == 1)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(object["seed"] as? Int == 99)
            let counts = try #require(object["counts"] as? [String: Int])
            #expect(counts == ["passed": 1, "failed": 1, "errored": 1, "timed_out": 1, "pending": 1])
            let tests = try #require(object["tests"] as? [[String: Any]])
            #expect(tests.map { $0["status"] as? String } == ["passed", "failed", "errored", "pending", "timed_out"])
            let failed = tests[1]
            #expect(failed["message"] as? String == "mixed_spec.lua:3: expected 3, got 2")
            #expect(tests[4]["step"] as? String == "wait for ever")
        }
    }

    /// JUnit as a real consumer reads it: junitparser (PyPI), installed for the test if missing.
    @Test func junitIsReadByJunitparserWithMatchingCounts() async throws {
        try await Self.withFolder(["mixed_spec.lua": Self.mixed, "other_test.lua": "it('alone', function() end)"]) { dir in
            let report = "\(dir)/report.xml"
            let result = try await CLI.run(["test", "-o", "plain", "--junit", report, "."], directory: dir)
            #expect(result.status == 1)
            let parsed = try await JUnitParser.read(report)
            #expect(parsed.tests == 6)
            #expect(parsed.failures == 1)
            #expect(parsed.errors == 2)  // errored and timed out
            #expect(parsed.skipped == 1)
            #expect(parsed.cases["suite hangs"] == ["Error"])
            #expect(parsed.cases["suite fails"] == ["Failure"])
            #expect(parsed.cases["suite is pending"] == ["Skipped"])
            #expect(parsed.cases["alone"] == [])
        }
    }

    @Test func theSameSeedGivesTheSameOrder() async throws {
        var source = "describe('many', function()\n"
        for index in 1...12 { source += "  it('t\(index)', function() end)\n" }
        source += "end)\n"
        try await Self.withFolder(["a_spec.lua": source, "b_spec.lua": source, "c_spec.lua": source]) { dir in
            func order(_ seed: String) async throws -> [String] {
                let result = try await CLI.run(["test", "-o", "plain", "--shuffle", "--seed", seed, "."], directory: dir)
                #expect(result.status == 0)
                #expect(result.stdout.contains("seed \(seed)"))
                return result.stdout.split(separator: "\n").filter { $0.hasPrefix("ok") }.map { String($0.split(separator: "(")[0]) }
            }
            let first = try await order("4242"), again = try await order("4242"), other = try await order("7")
            #expect(first.count == 36)
            #expect(first == again)
            #expect(first != other)
            #expect(first != first.sorted())
        }
    }

    @Test func theSeedReachesScriptsAndMathRandom() async throws {
        try await Self.withFolder(["seed_spec.lua": """
            it("sees the seed", function()
              print("seed=" .. require("ccm").seed() .. " random=" .. math.random(1, 1000000))
            end)
            """]) { dir in
            let one = try await CLI.run(["test", "-o", "plain", "--seed", "31", "seed_spec.lua"], directory: dir)
            let two = try await CLI.run(["test", "-o", "plain", "--seed", "31", "seed_spec.lua"], directory: dir)
            let line = one.stdout.split(separator: "\n").first { $0.hasPrefix("seed=") }
            #expect(line?.hasPrefix("seed=31 random=") == true, "\(one.stdout)")
            #expect(two.stdout.split(separator: "\n").first { $0.hasPrefix("seed=") } == line)
        }
    }

    @Test func filterAndTagsSelect() async throws {
        try await Self.withFolder(["sel_spec.lua": """
            describe("writes", function()
              it("small #fast", function() end)
              it("large", { tags = { "slow" } }, function() end)
            end)
            describe("reads", { tags = { "slow" } }, function()
              it("range", function() end)
            end)
            """]) { dir in
            func names(_ arguments: [String]) async throws -> [String] {
                let result = try await CLI.run(["test", "-o", "plain"] + arguments + ["sel_spec.lua"], directory: dir)
                #expect(result.status == 0, "\(result.stderr)")
                return result.stdout.split(separator: "\n").filter { $0.hasPrefix("ok") }
                    .map { String($0.dropFirst("ok      sel_spec.lua: ".count).split(separator: " (")[0]) }
            }
            #expect(try await names(["--filter", "^writes"]) == ["writes small #fast", "writes large"])
            #expect(try await names(["--filter-out", "large"]) == ["writes small #fast", "reads range"])
            #expect(try await names(["--tags", "slow"]) == ["writes large", "reads range"])
            #expect(try await names(["--tags", "fast"]) == ["writes small #fast"])
            #expect(try await names(["--exclude-tags", "slow"]) == ["writes small #fast"])
            let listed = try await CLI.run(["test", "--list", "--tags", "slow", "sel_spec.lua"], directory: dir)
            #expect(listed.stdout == "sel_spec.lua: writes large\nsel_spec.lua: reads range\n")
        }
    }

    @Test func hooksRunAroundEachTestInOrder() async throws {
        try await Self.withFolder(["hooks_spec.lua": """
            local trail = {}
            local function note(s) trail[#trail + 1] = s end
            describe("outer", function()
              setup(function() note("setup") end)
              teardown(function() note("teardown"); print(table.concat(trail, ",")) end)
              before_each(function() note("before") end)
              after_each(function() note("after") end)
              it("one", function() note("one") end)
              describe("inner", function()
                before_each(function() note("inner-before") end)
                it("two", function() note("two") end)
              end)
            end)
            """]) { dir in
            let result = try await CLI.run(["test", "-o", "plain", "hooks_spec.lua"], directory: dir)
            #expect(result.status == 0)
            #expect(result.stdout.contains("setup,before,one,after,before,inner-before,two,after,teardown"), "\(result.stdout)")
        }
    }

    @Test func exitFirstAndRepeat() async throws {
        try await Self.withFolder(["x_spec.lua": """
            it("a", function() end)
            it("b", function() error("stop here") end)
            it("c", function() end)
            """]) { dir in
            let first = try await CLI.run(["test", "-o", "plain", "--exit-first", "x_spec.lua"], directory: dir)
            #expect(first.status == 1)
            #expect(first.stdout.contains("1 passed, 1 errored"), "\(first.stdout)")
            #expect(!first.stdout.contains(": c ("))
            let repeated = try await CLI.run(["test", "-o", "plain", "--repeat", "3", "--filter", "^a$", "x_spec.lua"], directory: dir)
            #expect(repeated.status == 0)
            #expect(repeated.stdout.contains("x_spec.lua: a [3] ("))
            #expect(repeated.stdout.contains("3 passed in"))
        }
    }

    @Test func aFileThatDoesNotLoadIsAnError() async throws {
        try await Self.withFolder(["bad_spec.lua": "it('x', function() end)\nlocal = 1\n", "good_spec.lua": "it('y', function() end)"]) { dir in
            let result = try await CLI.run(["test", "-o", "plain", "."], directory: dir)
            #expect(result.status == 1)
            #expect(result.stdout.contains("ERROR   ./bad_spec.lua: (loading ./bad_spec.lua)"), "\(result.stdout)")
            #expect(result.stdout.contains("bad_spec.lua:2:"))
            #expect(result.stdout.contains("ok      ./good_spec.lua: y"))
        }
    }

    @Test func missingPathsAreUsageErrors() async throws {
        let none = try await CLI.run(["test"])
        #expect(none.status == 64)
        #expect(none.stderr.contains("name at least one test file or folder"))
        let missing = try await CLI.run(["test", "/no/such/spec"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no such file or folder: /no/such/spec"))
    }

    @Test func parallelFilesAllReport() async throws {
        var files: [String: String] = [:]
        for index in 1...4 { files["f\(index)_spec.lua"] = "it('sleeps', function() sleep(0.3) end)" }
        try await Self.withFolder(files) { dir in
            let started = Date()
            let result = try await CLI.run(["test", "-o", "plain", "-j", "4", "."], directory: dir)
            #expect(result.status == 0)
            #expect(result.stdout.contains("4 passed in"))
            #expect(Date().timeIntervalSince(started) < 30)
        }
    }

    /// Ctrl-C reaches the coordinator, which passes it on once: the worker cleans up (its
    /// on_exit runs), and the run ends with 130 after the tests that finished.
    @Test func ctrlCStopsTheRunAndWorkersCleanUp() async throws {
        try await Self.withFolder(["slow_spec.lua": """
            require("ccm").on_exit(function() print("worker cleanup ran") end)
            it("quick", function() end)
            it("waits", function() print("waiting"); io.stdout:flush(); sleep(60) end)
            """]) { dir in
            let (status, output) = try await CLI.offPool { () throws -> (Int32, String) in
                let (process, out, errorFile) = try CLI.start(["test", "-o", "plain", "slow_spec.lua"], directory: dir)
                defer { try? FileManager.default.removeItem(at: errorFile) }
                let reader = out.fileHandleForReading
                var seen = Data()
                while !String(decoding: seen, as: UTF8.self).contains("waiting\n") {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    seen.append(chunk)
                }
                kill(process.processIdentifier, SIGINT)
                seen.append(reader.readDataToEndOfFile())
                process.waitUntilExit()
                return (process.terminationStatus, String(decoding: seen, as: UTF8.self))
            }
            #expect(status == 130, "\(output)")
            #expect(output.contains("ok      slow_spec.lua: quick ("))
            #expect(output.contains("worker cleanup ran"), "\(output)")
            #expect(output.contains("1 passed in "))
        }
    }

    // MARK: ccm-lua FILE

    @Test func aScriptThatDefinesTestsRunsThem() async throws {
        try await Self.withFolder(["suite.lua": Self.mixed]) { dir in
            let result = try await CLI.run(["suite.lua"], directory: dir)
            #expect(result.status == 1)
            #expect(result.stdout.contains("ok      suite.lua: suite passes ("), "\(result.stdout)")
            #expect(result.stdout.contains("FAILED  suite.lua: suite fails ("))
            #expect(result.stdout.contains("1 passed, 1 failed, 1 errored, 1 timed out, 1 pending in "))
        }
        try await Self.withFolder(["fine.lua": "it('works', function() end)"]) { dir in
            let result = try await CLI.run(["fine.lua"], directory: dir)
            #expect(result.status == 0)
            #expect(result.stdout.contains("1 passed in "))
        }
    }

    // MARK: Assertions

    @Test func failedAssertionsNameBothValues() async throws {
        let cases: [(String, String)] = [
            ("assert.equal(1, '1')", "expected 1 (number), got \"1\" (string)"),
            ("assert.are.same({a = {1, 2}}, {a = {1, 3}})", "they differ at [\"a\"][2]: expected 2, got 3"),
            ("assert.is_nil(5)", "expected nil, got 5"),
            ("assert.is_not_nil(nil)", "expected a value, got nil"),
            ("assert.is_true(1)", "expected true, got 1 (number)"),
            ("assert.falsy('x')", "expected a falsy value (nil or false), got \"x\""),
            ("assert.matches('^b', 'abc')", "expected \"abc\" to match the pattern \"^b\""),
            ("assert.near(1, 2, 0.5)", "expected 1 ± 0.5, got 2"),
            ("assert.has_error(function() end)", "expected an error, got none"),
            ("assert.has_error(function() error('x') end, 'y')", "expected the error \"y\", got \"x\""),
            ("assert.not_equal(1, 1)", "expected a value other than 1"),
            ("assert.is_not.same({1}, {1})", "expected a value different from {[1] = 1}"),
            ("assert.are_not.equal('a', 'a')", "expected a value other than \"a\""),
            ("assert.equal(1, 2, 'the count')", "the count"),
        ]
        var source = ""
        for (index, (code, _)) in cases.enumerated() { source += "it('case \(index)', function() \(code) end)\n" }
        try await Self.withFolder(["asserts_spec.lua": source]) { dir in
            let result = try await CLI.run(["test", "-o", "json", "asserts_spec.lua"], directory: dir)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let tests = try #require(object["tests"] as? [[String: Any]])
            #expect(tests.count == cases.count)
            for (index, (code, text)) in cases.enumerated() where index < tests.count {
                #expect(tests[index]["status"] as? String == "failed", "\(code)")
                let message = tests[index]["message"] as? String ?? ""
                #expect(message.hasPrefix("asserts_spec.lua:\(index + 1): "), "\(code): \(message)")
                #expect(message.contains(text), "\(code): \(message)")
            }
        }
    }

    @Test func passingAssertionsAndPlainAssertKeepWorking() async throws {
        let result = try await CLI.run(["-e", """
            assert.equal(1, 1); assert.are.same({1, {2}}, {1, {2}}); assert.is_not_nil(0); assert.is_true(true)
            assert.is_false(false); assert.truthy(0); assert.falsy(nil); assert.matches("^a", "abc")
            assert.near(1, 1.05, 0.1); assert.has_error(function() error("boom") end, "boom")
            assert.has_no.errors(function() end); assert.is_not.equal(1, 2); assert.are_not.same({1}, {2})
            assert.not_.matches("^b", "abc"); assert.is_number(3); assert.is_table({})
            print(select("#", assert(1, 2, 3)), assert("v", "unused"))
            print(pcall(assert, false, "plain message"))
            print(select(2, pcall(function() assert(false) end)))
            print(select(2, pcall(function() assert(nil, 42) end)))
            print(type(assert))
            """])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            3\tv\tunused
            false\tplain message
            (command line):8: assertion failed!
            42
            table

            """)
    }

    @Test func aFailedPlainAssertIsAFailureAtTheUsersLine() async throws {
        try await Self.withFolder(["plain_spec.lua": "it('checks', function()\n  assert(1 == 2, 'one is not two')\nend)"]) { dir in
            let result = try await CLI.run(["test", "-o", "plain", "plain_spec.lua"], directory: dir)
            #expect(result.status == 1)
            #expect(result.stdout.contains("FAILED  plain_spec.lua: checks"))
            #expect(result.stdout.contains("    plain_spec.lua:2: one is not two"), "\(result.stdout)")
        }
    }

    /// A failing assertion inside log.step: the step is named, and the step's own log line reads
    /// the assertion's message (not "(error object is a table value)").
    @Test func aFailedStepIsNamedWithTheAssertion() async throws {
        try await Self.withFolder(["step_spec.lua": """
            it("writes", function()
              log.step("check the value", function() assert.equal("v", "w") end)
            end)
            """]) { dir in
            let result = try await CLI.run(["test", "-o", "plain", "step_spec.lua"], directory: dir)
            #expect(result.status == 1)
            #expect(result.stdout.contains("    in step: check the value"), "\(result.stdout)")
            #expect(result.stderr.contains("✗ step 'check the value' failed after"), "\(result.stderr)")
            #expect(result.stderr.contains("step_spec.lua:2: expected \"v\", got \"w\""), "\(result.stderr)")
            #expect(!result.stderr.contains("error object is a table value"))
        }
    }

    @Test func unknownChecksAndOptionsAreUsageErrors() async throws {
        let check = try await CLI.run(["-e", "assert.equals_roughly(1, 1)"])
        #expect(check.status == 1)
        #expect(check.stderr.contains("assert has no check 'equals_roughly'"), "\(check.stderr)")
        let option = try await CLI.run(["-e", "it('x', {time = 3}, function() end)"])
        #expect(option.status == 1)
        #expect(option.stderr.contains("it: unknown option 'time' (options: timeout, tags, ignore_log_patterns)"), "\(option.stderr)")
    }
}

/// junitparser from PyPI, installed into a scratch folder for the test run.
enum JUnitParser {
    struct Parsed {
        var tests = 0, failures = 0, errors = 0, skipped = 0
        /// Test name -> result kinds ("Failure", "Error", "Skipped").
        var cases: [String: [String]] = [:]
    }

    static let script = """
        import json, sys
        from junitparser import JUnitXml
        out = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "cases": {}}
        for suite in JUnitXml.fromfile(sys.argv[1]):
            for case in suite:
                out["cases"][case.name] = [type(r).__name__ for r in case.result]
            for key in ("tests", "failures", "errors", "skipped"):
                out[key] += getattr(suite, key)
        print(json.dumps(out))
        """

    static func read(_ path: String) async throws -> Parsed {
        try await CLI.offPool {
            // Installed for this test only (into a folder removed afterwards) when Python lacks it.
            var target: String?
            defer { if let target { try? FileManager.default.removeItem(atPath: target) } }
            if try run(["python3", "-c", "import junitparser"]).status != 0 {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("junitparser-\(UUID().uuidString)").path
                target = folder
                let install = try run(["python3", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", folder, "junitparser"])
                guard install.status == 0 else { throw Problem(text: "pip install junitparser failed: \(install.output)") }
            }
            let parsed = try run(["python3", "-c", script, path], pythonPath: target)
            guard parsed.status == 0, let object = try JSONSerialization.jsonObject(with: Data(parsed.output.utf8)) as? [String: Any] else {
                throw Problem(text: "junitparser could not read \(path): \(parsed.output)")
            }
            var result = Parsed()
            result.tests = object["tests"] as? Int ?? -1
            result.failures = object["failures"] as? Int ?? -1
            result.errors = object["errors"] as? Int ?? -1
            result.skipped = object["skipped"] as? Int ?? -1
            result.cases = object["cases"] as? [String: [String]] ?? [:]
            return result
        }
    }

    struct Problem: Error, CustomStringConvertible { var text: String; var description: String { text } }

    private static func run(_ argv: [String], pythonPath: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        var environment = ProcessInfo.processInfo.environment
        if let pythonPath { environment["PYTHONPATH"] = pythonPath }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
