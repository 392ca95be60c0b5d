import Foundation
import Testing

/// ccm-lua behaves like lua(1): arg, -e, -, -i, and require's search order.
@Suite struct CommandLineTests {
    @Test func argTableIsBuiltAsLuaDoes() async throws {
        let dir = try CLI.folder(["args.lua": "print(#arg, arg[0], arg[1], arg[2], arg[-1], ...)"])
        let result = try await CLI.run(["-q", "\(dir)/args.lua", "one", "-two"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "2\t\(dir)/args.lua\tone\t-two\t-q\tone\t-two\n")
        #expect(result.stderr.isEmpty)
    }

    @Test func executesCodeFromDashE() async throws {
        let result = try await CLI.run(["-e", "x = 40", "-e", "print(x + 2)"])
        #expect(result.status == 0)
        #expect(result.stdout == "42\n")
    }

    @Test func readsTheScriptFromStandardInput() async throws {
        let result = try await CLI.run(["-", "a"], stdin: "print('from stdin', ...)")
        #expect(result.stdout == "from stdin\ta\n")
        #expect(result.status == 0)
    }

    @Test func replKeepsStatePrintsValuesAndSurvivesErrors() async throws {
        let input = """
            x = 20
            x + 22
            for i = 1, 2 do
              print("line", i)
            end
            error("oops")
            "still here", x
            """
        let result = try await CLI.run(["-i"], stdin: input + "\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "42\nline\t1\nline\t2\nstill here\t20\n", "\(result.stdout)")
        #expect(result.stderr.contains("stdin:1: oops"))
    }

    @Test func requireSearchesScriptFolderLibCcmLuaPathThenBuiltins() async throws {
        let dir = try CLI.folder([
            "scenario/main.lua": """
                print(require("near"), require("pkg"), require("shared"), require("extra"), (require("fallback")))
                print(type(require("ccm.json").encode))
                """,
            "scenario/near.lua": "return 'script folder'",
            "scenario/pkg/init.lua": "return 'init.lua in script folder'",
            "lib/shared.lua": "return './lib'",
            "lib/near.lua": "return 'WRONG: lib before script folder'",
            "extra1/extra.lua": "return 'CCM_LUA_PATH'",
            "extra2/extra.lua": "return 'WRONG: second CCM_LUA_PATH entry'",
            "extra2/fallback.lua": "return 'second CCM_LUA_PATH entry'",
        ])
        let result = try await CLI.run(["scenario/main.lua"], environment: ["CCM_LUA_PATH": "\(dir)/extra1;\(dir)/extra2"],
                                 directory: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "script folder\tinit.lua in script folder\t./lib\tCCM_LUA_PATH\tsecond CCM_LUA_PATH entry\nfunction\n")
    }

    @Test func missingModuleListsWhereItLooked() async throws {
        let result = try await CLI.run(["-e", "require 'nowhere'"], environment: ["CCM_LUA_PATH": "/opt/x;;"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("module 'nowhere' not found"))
        #expect(result.stderr.contains("/opt/x/nowhere.lua"))
        #expect(result.stderr.contains("no built-in module 'nowhere'"))
    }

    @Test func versionAndHelp() async throws {
        let version = try await CLI.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("ccm-lua "))
        let help = try await CLI.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("-e CODE"))
    }

    @Test func logLevelFollowsFlagsAndEnvironment() async throws {
        let code = "log.debug('dbg') log.info('inf') log.warn('wrn')"
        let normal = try await CLI.run(["-e", code])
        #expect(!normal.stderr.contains("dbg") && normal.stderr.contains("INFO  inf") && normal.stderr.contains("wrn"))
        let verbose = try await CLI.run(["-v", "-e", code])
        #expect(verbose.stderr.contains("DEBUG dbg"))
        let quiet = try await CLI.run(["-q", "-e", code])
        #expect(!quiet.stderr.contains("inf") && quiet.stderr.contains("wrn"))
        let env = try await CLI.run(["-e", code], environment: ["CCM_LUA_LOG_LEVEL": "error"])
        #expect(env.stderr.isEmpty)
    }

    @Test func osExitRunsCleanupAndKeepsTheCode() async throws {
        let result = try await CLI.run(["-e", "require('ccm').on_exit(function() print('bye') end) os.exit(7)"])
        #expect(result.status == 7)
        #expect(result.stdout == "bye\n")
    }

    @Test func helloExampleRunsWithoutAnEngine() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let result = try await CLI.run([root.appendingPathComponent("examples/hello.lua").path])
        #expect(result.status == 0, "\(result.stderr)")
    }
}
