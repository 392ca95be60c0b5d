// Exec round trip through the runtime layer vs the bare client, per engine, in one run.
// Run it with bench/exec-roundtrip (see there for options).
import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif

let rounds = Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "") ?? 50
let warmup = 5
let engines = CommandLine.arguments.dropFirst().compactMap(Engine.init(rawValue:))

/// Runs argv the way a shell does (posix_spawnp + waitpid, output to /dev/null) and returns seconds.
func bare(_ argv: [String]) -> Double {
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    let start = ContinuousClock.now
    var pid: pid_t = 0
    guard posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ) == 0 else { fatalError("cannot spawn \(argv[0])") }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let elapsed = ContinuousClock.now - start
    guard status == 0 else { fatalError("\(argv.joined(separator: " ")) failed with status \(status)") }
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

/// The fixed cost of starting a program through ProcessRunner, without any engine: `/bin/true`.
func spawnCost() async throws {
    var bareTimes: [Double] = [], runnerTimes: [Double] = []
    for round in 0..<(rounds + warmup) {
        let b = bare(["true"])
        let output = try await ProcessRunner.run(["true"])
        if round >= warmup { bareTimes.append(b); runnerTimes.append(output.duration) }
    }
    print("host `true`: posix_spawn \(ms(median(bareTimes))), ProcessRunner \(ms(median(runnerTimes)))")
}

/// Seconds one exec through `runtime` takes, checked to succeed.
func timed(_ runtime: any ContainerRuntime, _ name: String, _ request: ExecRequest) async throws -> Double {
    let start = ContinuousClock.now
    let result = try await runtime.exec(name, request)
    precondition(result.code == 0)
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

var failed = false
try await spawnCost()
print("exec round trip, median of \(rounds) (after \(warmup) warm-up rounds), `exec C true`; the three take turns")
for engine in engines {
    let cli = CLIContainerRuntime(engine: engine)
    // The Engine API runtime as ccm-lua chooses it, with the API required (CCM_LUA_ENGINE_API=on).
    let api: any ContainerRuntime
    do {
        api = try EngineAPIRuntime.choose(cli: cli, environment: [EngineAPIMode.variable: "on"])
        try await EngineAPIRuntime.requireAPI(api, environment: [EngineAPIMode.variable: "on"])
    } catch {
        print("\(engine.rawValue): the engine API cannot be used: \(error)")
        failed = true
        continue
    }
    let name = "ccm-lua-bench-\(Labels.runID)-\(engine.rawValue)"
    var spec = ContainerSpec(name: name, image: "ccm-lua-test/base:bookworm")
    spec.labels = Labels.forResource(cluster: "ccm-lua-bench-\(Labels.runID)")
    spec.command = ["sleep", "600"]
    do {
        _ = try await cli.createContainer(spec)
        try await cli.start(name)
        let request = ExecRequest(argv: ["true"])
        let argv = [engine.rawValue, "exec", name, "true"]
        for _ in 0..<warmup {
            _ = bare(argv)
            _ = try await cli.exec(name, request)
            _ = try await api.exec(name, request)
        }
        var bareTimes: [Double] = [], cliTimes: [Double] = [], apiTimes: [Double] = []
        for round in 0..<rounds {
            // Rotate the order so none always runs right after another.
            for turn in 0..<3 {
                switch (round + turn) % 3 {
                case 0: bareTimes.append(bare(argv))
                case 1: cliTimes.append(try await timed(cli, name, request))
                default: apiTimes.append(try await timed(api, name, request))
                }
            }
        }
        let b = median(bareTimes), c = median(cliTimes), a = median(apiTimes)
        func ratio(_ x: Double) -> String { String(format: "%.2f×", x / b) }
        let cliOK = c <= b * 1.10, apiOK = a < b
        print("\(engine.rawValue): bare CLI \(ms(b)); through the client runtime \(ms(c)) (\(ratio(c)), "
              + (cliOK ? "within" : "OVER") + " the 1.10× target); through the Engine API runtime \(ms(a)) (\(ratio(a)), "
              + (apiOK ? "below" : "NOT below") + " the bare CLI)")
        print("data: \(engine.rawValue) | d-roundtrip | bare \(String(format: "%.4f", b)) | client \(String(format: "%.4f", c)) | api \(String(format: "%.4f", a))")
        if !cliOK || !apiOK { failed = true }
    } catch {
        print("\(engine.rawValue): could not run: \(error)")
        failed = true
    }
    try? await cli.remove(name)
}
exit(failed ? 1 : 0)
