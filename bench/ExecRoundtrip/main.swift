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

var failed = false
try await spawnCost()
print("exec round trip, median of \(rounds) (after \(warmup) warm-up rounds), `exec C true`")
for engine in engines {
    let runtime = CLIContainerRuntime(engine: engine)
    let name = "ccm-lua-bench-\(Labels.runID)-\(engine.rawValue)"
    var spec = ContainerSpec(name: name, image: "ccm-lua-test/base:bookworm")
    spec.labels = Labels.forResource(cluster: "ccm-lua-bench-\(Labels.runID)")
    spec.command = ["sleep", "600"]
    do {
        _ = try await runtime.createContainer(spec)
        try await runtime.start(name)
        let request = ExecRequest(argv: ["true"])
        let argv = [engine.rawValue, "exec", name, "true"]
        for _ in 0..<warmup {
            _ = bare(argv)
            _ = try await runtime.exec(name, request)
        }
        var bareTimes: [Double] = [], layerTimes: [Double] = []
        for round in 0..<rounds {
            // Alternate the order so neither side always runs right after the other.
            if round % 2 == 0 {
                bareTimes.append(bare(argv))
                let start = ContinuousClock.now
                let result = try await runtime.exec(name, request)
                precondition(result.code == 0)
                let elapsed = ContinuousClock.now - start
                layerTimes.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            } else {
                let start = ContinuousClock.now
                let result = try await runtime.exec(name, request)
                precondition(result.code == 0)
                let elapsed = ContinuousClock.now - start
                layerTimes.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                bareTimes.append(bare(argv))
            }
        }
        let b = median(bareTimes), l = median(layerTimes)
        let overhead = (l - b) / b * 100
        print("\(engine.rawValue): bare CLI \(ms(b)), through the layer \(ms(l)), overhead \(String(format: "%+.1f", overhead)) % "
              + (overhead <= 10 ? "(within the 10 % target)" : "(OVER the 10 % target)"))
        if overhead > 10 { failed = true }
    } catch {
        print("\(engine.rawValue): could not run: \(error)")
        failed = true
    }
    try? await runtime.remove(name)
}
exit(failed ? 1 : 0)
