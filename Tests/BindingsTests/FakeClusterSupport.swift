import Bindings
import Core
import CoreTesting
import Foundation
import Synchronization
import Testing

/// Tests that create clusters from Lua share process-wide things: `CCM_LUA_HOME` (the state store
/// reads it from the environment), the engine `cluster.create` uses (`EngineCache.shared`) and the
/// variables profiles read (`SCYLLA_DOCKER_IMAGE`). Every such suite is nested in this one, so
/// they run one test at a time.
@Suite(.serialized) enum FakeClusters {}

/// What one script run left behind: its outcome, the fake engine's record, the error it raised (if
/// any), what it reported with `out(key, value)`, and the state folder and containers as they were
/// when the script ended (before the end-of-script cleanup removed them).
struct ClusterRun {
    /// The error value a script raised, as the user sees it.
    struct RaisedError: CustomStringConvertible {
        var kind: String
        var message: String
        /// `tostring(err)`: "path/scenario.lua:LINE: message".
        var text: String
        var node: String?
        var description: String { "[\(kind)] \(text)" }
    }

    var outcome: LuaHost.Outcome
    var fake: FakeContainerRuntime
    /// The script's path: its chunk name, which error positions start with.
    var script: String
    var values: [String: String]
    var error: RaisedError?
    /// Files under CCM_LUA_HOME by relative path ("c1/node1/conf/scylla.yaml").
    var files: [String: String]
    /// The fake's containers by name, as created.
    var containers: [String: ContainerSpec]

    /// "scenario.lua:LINE: " as the script's errors start.
    func at(_ line: Int) -> String { "\(script):\(line): " }

    func container(_ cluster: String, _ node: String) -> ContainerSpec? {
        containers[Cluster.containerName(cluster, node)]
    }

    func file(_ cluster: String, _ node: String, _ path: String) -> String? {
        files["\(cluster)/\(node)/\(path)"]
    }

    /// The argv of every exec the engine saw, without the container.
    var execs: [[String]] { fake.calls("exec").map { Array($0.arguments.dropFirst()) } }

    /// A human-readable summary for failing expectations.
    var summary: String {
        "status \(outcome.status); error: \(error.map(String.init(describing:)) ?? "none"); report: \(outcome.report ?? "none")"
    }
}

/// Collects what the script hands to Swift through the `test.capture` module.
private final class Capture: Sendable {
    struct Snapshot: Sendable {
        var files: [String: String] = [:]
        var containers: [String: ContainerSpec] = [:]
    }
    let values = Mutex<[String: String]>([:])
    let error = Mutex<ClusterRun.RaisedError?>(nil)
    let snapshot = Mutex(Snapshot())
}

/// Runs `source` as the script file `scenario.lua` in a fresh state folder, with a fresh fake
/// engine that has `images`. `modules` are written next to the script (found by `require`), `env`
/// is set for the run. In the script, `out(key, value)` reports a value (tables as JSON) and
/// `emit(container, line)` makes a container print a log line; `read_state(path)` and
/// `inode(path)` look at a file under CCM_LUA_HOME while the script runs. With `uncaught`, an error
/// ends the run as it would end a script (see `outcome.report`).
func runCluster(_ source: String, images: [String] = ["scylladb/scylla:latest", "cassandra:4.1", "busybox:latest"],
                env: [String: String] = [:], modules: [String: String] = [:], uncaught: Bool = false,
                prepare: (FakeContainerRuntime) -> Void = { _ in }) async throws -> ClusterRun {
    // Short: Lua shortens chunk names past 60 characters ("...end/of/path.lua").
    let root = URL(fileURLWithPath: "/tmp/ccmt-" + UUID().uuidString.prefix(8).lowercased())
    let home = root.appendingPathComponent("home"), scripts = root.appendingPathComponent("scripts")
    try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    let script = scripts.appendingPathComponent("scenario.lua").path
    try source.write(toFile: script, atomically: true, encoding: .utf8)
    for (name, text) in modules {
        let file = scripts.appendingPathComponent(name + ".lua")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    let variables = env.merging(["CCM_LUA_HOME": home.path]) { a, _ in a }
    let saved = variables.keys.map { ($0, getenv($0).map { String(cString: $0) }) }
    for (key, value) in variables { setenv(key, value, 1) }
    defer { for (key, old) in saved { if let old { setenv(key, old, 1) } else { unsetenv(key) } } }

    let fake = FakeContainerRuntime(images: images)
    prepare(fake)
    EngineCache.shared.use(fake)
    let capture = Capture()

    let prelude = """
        local capture = require "test.capture"
        function out(key, value) capture.put(key, type(value) == "table" and json.encode(value) or tostring(value)) end
        emit, read_state, inode = capture.emit, capture.read, capture.inode
        local ok, err = \(uncaught ? "true, dofile([[\(script)]])" : "pcall(dofile, [[\(script)]])")
        capture.snapshot()
        if not ok then
          if type(err) == "table" then
            capture.error(tostring(err.kind), tostring(err.message), tostring(err), err.node and tostring(err.node))
          else
            capture.error("(not a table)", tostring(err), tostring(err))
          end
        end
        """
    let invocation = LuaHost.Invocation(actions: [.code(prelude)]) { vm in
        var module = LuaModule("test.capture")
        module.function("put") { ctx in
            let key = try ctx.string(1), value = try ctx.string(2)
            capture.values.withLock { $0[key] = value }
            return 0
        }
        module.function("error") { ctx in
            let raised = ClusterRun.RaisedError(kind: try ctx.string(1), message: try ctx.string(2), text: try ctx.string(3),
                                                node: try ctx.optionalString(4))
            capture.error.withLock { $0 = raised }
            return 0
        }
        module.function("emit") { ctx in
            fake.emitLog(try ctx.string(1), try ctx.string(2))
            return 0
        }
        // read(path) / inode(path): a file under CCM_LUA_HOME while the script runs (nil if absent).
        module.function("read") { ctx in
            let url = home.appendingPathComponent(try ctx.string(1))
            if let text = try? String(contentsOf: url, encoding: .utf8) { ctx.push(text) } else { ctx.pushNil() }
            return 1
        }
        module.function("inode") { ctx in
            let path = home.appendingPathComponent(try ctx.string(1)).path
            if let number = (try? FileManager.default.attributesOfItem(atPath: path))?[.systemFileNumber] as? NSNumber {
                ctx.push(number.intValue)
            } else {
                ctx.pushNil()
            }
            return 1
        }
        module.function("snapshot") { _ in
            var snapshot = Capture.Snapshot()
            let base = home.standardizedFileURL.path + "/"
            if let walker = FileManager.default.enumerator(at: home, includingPropertiesForKeys: [.isRegularFileKey]) {
                for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                    let path = url.standardizedFileURL.path
                    let relative = path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
                    snapshot.files[relative] = (try? String(contentsOf: url, encoding: .utf8)) ?? "(unreadable)"
                }
            }
            for name in fake.containerNames {
                if let spec = fake.container(name)?.spec { snapshot.containers[name] = spec }
            }
            capture.snapshot.withLock { $0 = snapshot }
            return 0
        }
        vm.preload(module)
    }
    let settings = HostSettings(logLevel: .silent, scriptFolder: scripts.path, printErrors: false)
    let outcome = await LuaHost.run(invocation, settings: settings)
    let snapshot = capture.snapshot.withLock { $0 }
    return ClusterRun(outcome: outcome, fake: fake, script: script, values: capture.values.withLock { $0 },
                      error: capture.error.withLock { $0 }, files: snapshot.files, containers: snapshot.containers)
}

/// Decodes a JSON text reported with `out()`.
func decodeJSON(_ text: String?) -> Any? {
    guard let data = text?.data(using: .utf8) else { return nil }
    return try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
}
