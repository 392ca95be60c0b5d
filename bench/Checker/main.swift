// Linearizability checker timings: generated histories (1k, 10k, 100k operations over 10 keys, 5 and
// 20 processes), and optionally Jepsen's etcd logs from a directory, one verdict per file.
// Run it with bench/checker (see there for options).
import Core
import Foundation

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// The best of `rounds` timings of `body`, and its last result.
func best<T>(_ rounds: Int, _ body: () throws -> T) rethrows -> (Double, T) {
    var fastest = Double.infinity
    var result: T? = nil
    for _ in 0..<max(1, rounds) {
        let start = ContinuousClock.now
        result = try body()
        fastest = min(fastest, seconds(ContinuousClock.now - start))
    }
    return (fastest, result!)
}

func verdict(_ validity: LinearizabilityResult.Validity) -> String {
    switch validity {
    case .valid: "true"
    case .invalid: "false"
    case .unknown: "unknown"
    }
}

var arguments = Array(CommandLine.arguments.dropFirst())
var jepsenDir: String? = nil
var rounds = 3
var sizes = [1_000, 10_000, 100_000]
var keys = 10
var exportDir: String? = nil
while let argument = arguments.first {
    arguments.removeFirst()
    switch argument {
    case "--jepsen-dir": jepsenDir = arguments.isEmpty ? nil : arguments.removeFirst()
    case "--rounds": rounds = Int(arguments.isEmpty ? "" : arguments.removeFirst()) ?? rounds
    case "--sizes": sizes = (arguments.isEmpty ? "" : arguments.removeFirst()).split(separator: ",").compactMap { Int($0) }
    case "--export-etcd-logs": exportDir = arguments.isEmpty ? nil : arguments.removeFirst()
    case "--keys": keys = Int(arguments.isEmpty ? "" : arguments.removeFirst()) ?? keys
    default:
        FileHandle.standardError.write(Data("usage: checker-bench [--jepsen-dir DIR] [--rounds N] [--sizes 1000,10000] [--keys N]\n".utf8))
        exit(2)
    }
}

var failed = false

/// A single-object cas-register history as a Jepsen etcd log, so other checkers can read it.
func etcdLog(_ history: OperationHistory) -> String {
    var text = ""
    for op in history.operations {
        guard case .client(let process) = op.process else { continue }
        var value: String
        switch op.value {
        case .none: value = "nil"
        case .integer(let n): value = String(n)
        case .list(let items): value = "[" + items.map { if case .integer(let n) = $0 { String(n) } else { "nil" } }.joined(separator: " ") + "]"
        default: value = "nil"
        }
        if op.kind == .info || (op.kind == .fail && op.f == "read") { value = ":timed-out" }
        text += "INFO  jepsen.util - \(process)\t:\(op.kind.rawValue)\t:\(op.f)\t\(value)\n"
    }
    return text
}

if let exportDir {
    // Generated one-key histories in Jepsen's etcd log form, to run other checkers on the same input.
    try FileManager.default.createDirectory(atPath: exportDir, withIntermediateDirectories: true)
    for operations in sizes {
        for processes in [5, 20] {
            let history = LinearizableHistoryGenerator(model: .etcd, operations: operations, keys: 0,
                                                       processes: processes, infoRate: 0.02, seed: 42).generate()
            let path = "\(exportDir)/etcd_generated_\(operations)_p\(processes).log"
            try Data(etcdLog(history).utf8).write(to: URL(fileURLWithPath: path))
            print(path)
        }
    }
    exit(0)
}
if let jepsenDir {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: jepsenDir)) ?? [])
        .filter { $0.hasPrefix("etcd_") && $0.hasSuffix(".log") }.sorted()
    if names.isEmpty {
        print("no etcd_*.log files in \(jepsenDir)")
        exit(1)
    }
    let loadStart = ContinuousClock.now
    let histories = try names.map { name in
        do { return try OperationHistoryFormats.load(path: jepsenDir + "/" + name) } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw error
        }
    }
    let loadTime = seconds(ContinuousClock.now - loadStart)
    var verdicts = [String](repeating: "", count: names.count)
    var times = [Double](repeating: 0, count: names.count)
    let (total, _) = try best(rounds) {
        for (i, history) in histories.enumerated() {
            let (time, result) = try best(1) { try Linearizability.check(history, model: .etcd) }
            verdicts[i] = verdict(result.valid)
            times[i] = time
        }
    }
    for (i, name) in names.enumerated() { print("\(name) \(verdicts[i]) \(String(format: "%.6f", times[i]))") }
    print("total \(names.count) files: check \(String(format: "%.4f", total)) s (best of \(rounds)), parse \(String(format: "%.4f", loadTime)) s")
} else {
    print("model cas-register, \(keys) key\(keys == 1 ? "" : "s"), 2% unknown outcomes; check time, best of \(rounds) (100k: 1)")
    print("operations  processes   events    check s  per op µs  verdict")
    for operations in sizes {
        for processes in [5, 20] {
            let history = LinearizableHistoryGenerator(model: .casRegister, operations: operations, keys: keys,
                                                       processes: processes, infoRate: 0.02, seed: 42).generate()
            let (time, result) = try best(operations >= 100_000 ? 1 : rounds) {
                try Linearizability.check(history, model: .casRegister, timeLimit: 600)
            }
            if result.valid != .valid { failed = true }
            print(String(format: "%10d  %9d  %7d  %9.4f  %9.2f  ", operations, processes, history.operations.count,
                         time, time / Double(operations) * 1e6) + (result.valid == .valid ? "valid" : "NOT VALID"))
        }
    }
}
exit(failed ? 1 : 0)
