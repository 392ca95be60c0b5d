import Core
import Foundation

/// `ccm.core`: the Swift half of the `cluster` global. `lua/ccm/cluster.lua` turns specs into
/// plans with the profile and calls these; each call translates arguments and hands the work to
/// Core's `Cluster`. Nothing here decides how containers are run.
enum ClusterModule {
    static var module: LuaModule {
        var module = LuaModule("ccm.core")
        module.function("create", create)
        module.function("attach", attach)
        module.function("list", list)
        module.function("merge_config", mergeConfig)
        module.function("defaults", defaults)
        return module
    }

    /// defaults() -> Core's default time limits, so the Lua library (wait_until) uses the same ones.
    static func defaults(_ ctx: LuaCallContext) throws -> LuaReturn {
        ctx.push(.table([
            "start_timeout": .number(Defaults.startTimeout), "stop_timeout": .number(Defaults.stopTimeout),
            "wait_log_timeout": .number(Defaults.waitLogTimeout), "wait_until_timeout": .number(Defaults.waitUntilTimeout),
            "wait_until_interval": .number(Defaults.waitUntilInterval), "run_once_timeout": .number(Defaults.runOnceTimeout),
        ]))
        return 1
    }

    /// create{name=, profile=, image=, runtime=, start_order=, keep=, nodes={{name=, index=, dc=, config=, plan=}}}
    static func create(_ ctx: LuaCallContext) throws -> LuaReturn {
        try ctx.checkTable(1)
        let spec = try LuaData.read(at: 1, on: ctx.state, path: "spec")
        guard case .string(let name)? = spec["name"], case .string(let profile)? = spec["profile"],
              case .string(let image)? = spec["image"], case .list(let nodeValues)? = spec["nodes"] else {
            throw LuaArgumentError(1, detail: "a cluster spec from ccm.cluster (name, profile, image, nodes)")
        }
        let keep = spec["keep"] == .bool(true)
        guard case .string(let orderName)? = spec["start_order"], let order = StartOrder(rawValue: orderName) else {
            throw LuaError(kind: "config", "profile \(profile): start_order must be \"parallel\", \"sequential\" or \"one-by-one\"")
        }
        let nodes = try nodeValues.map(nodeSpec)
        let requested = try engineName(spec["runtime"])
        var clusterSpec = ClusterSpec(name: name, profile: profile, image: image, startOrder: order, keep: keep, nodes: nodes,
                                      request: spec["spec"])
        if case .string(let pull)? = spec["pull"] { clusterSpec.pull = try PullPolicy.named(pull, what: "spec.pull") }
        clusterSpec.hosts = try hosts(spec["hosts"])
        clusterSpec.placement = try placement(spec["placement"])
        if !clusterSpec.hosts.isEmpty, requested == .podman {
            throw LuaError(kind: "usage", "spec.hosts are Docker engines joined in one Docker Swarm; leave out spec.runtime = \"podman\" (or the hosts)")
        }
        // Checked here too, so a wrong placement is reported before any engine is asked.
        _ = try Placement.place(nodes.map { ($0.name, $0.dc) }, hosts: clusterSpec.hosts.map(\.name), byDatacenter: clusterSpec.placement)
        EngineHost.warnIfPlainTCP(clusterSpec.hosts)
        let hosts = clusterSpec.hosts
        clusterSpec.pullOutput = .standardError()
        let store = StateStore.fromEnvironment()
        // The creation runs in a task of its own that a Ctrl-C does not cancel: a half-made cluster
        // is finished or rolled back, never abandoned. The removal at exit is registered now, before
        // anything exists, and waits for that task, so an interrupt at any moment leaves nothing.
        let creation = Task { () throws -> Cluster in
            let runtime = hosts.isEmpty ? try await EngineCache.shared.runtime(requested) : try await MultiHostRuntime.connect(hosts)
            return try await Cluster.create(clusterSpec, runtime: runtime, store: store)
        }
        // A kept cluster's entry removes nothing: it tells, after a Ctrl-C, that the cluster stays.
        let failures = ctx.cleanup.failures
        let atExit = ctx.cleanup.add(keep ? "keep cluster \(name)" : "remove cluster \(name)", reporting: {
            guard let cluster = try? await creation.value else { return nil }   // failed: Core rolled it back
            if keep { return "kept cluster \(name) (remove it with `ccm-lua rm \(name)`)" }
            if await removeAtExit(cluster) { return "removed cluster \(name)" }
            failures.note()
            return nil
        })
        return ctx.suspend({ try await creation.value }, then: { ctx, cluster in
            let handle = ClusterHandle(cluster, engine: cluster.runtime.engine)
            handle.cleanup = atExit
            ctx.push(handle)
            return 1
        })
    }

    /// Removes a cluster the script did not keep; a failure is reported with what to do, since the
    /// script has ended and cannot handle it.
    static func removeAtExit(_ cluster: Cluster) async -> Bool {
        do {
            try await cluster.remove()
            return true
        } catch {
            let text = "ccm-lua: could not remove cluster '\(cluster.name)': \(error)\n  remove what is left with `ccm-lua rm \(cluster.name)`\n"
            FileHandle.standardError.write(Data(text.utf8))
            return false
        }
    }

    static func nodeSpec(_ value: ConfigValue) throws -> NodeSpec {
        guard case .string(let name)? = value["name"], case .int(let index)? = value["index"] else {
            throw LuaError(kind: "config", "a node in the cluster spec has no name or index")
        }
        var dc: String?
        if case .string(let d)? = value["dc"] { dc = d }
        let plan = try PlanReader(node: name, plan: value["plan"] ?? .null).read()
        return NodeSpec(name: name, index: Int(index), dc: dc, plan: plan, config: value["config"] ?? .map([]))
    }

    /// spec.hosts: `{h1 = "unix://...", h2 = "tcp://..."}` (in name order) or a list of addresses
    /// (named h1, h2, ... in order).
    static func hosts(_ value: ConfigValue?) throws -> [EngineHost] {
        switch value {
        case nil, .null?: return []
        case .list(let items)?:
            return try items.enumerated().map { i, item in
                guard case .string(let address) = item else { throw LuaError(kind: "usage", "spec.hosts[\(i + 1)] must be an engine address or Docker context name (a string)") }
                return try EngineHost(name: "h\(i + 1)", address: address)
            }
        case .map(let entries)?:
            return try entries.sorted { $0.key < $1.key }.map { key, item in
                guard case .string(let address) = item else { throw LuaError(kind: "usage", "spec.hosts.\(key) must be an engine address or Docker context name (a string)") }
                return try EngineHost(name: key, address: address)
            }
        default:
            throw LuaError(kind: "usage", "spec.hosts must be a table: {h1 = \"unix:///var/run/docker.sock\", h2 = \"tcp://HOST:2376\"}")
        }
    }

    /// spec.placement: `{dc1 = "h1", dc2 = "h2"}`.
    static func placement(_ value: ConfigValue?) throws -> [String: String]? {
        switch value {
        case nil, .null?: return nil
        case .map(let entries)?:
            var result: [String: String] = [:]
            for (dc, host) in entries {
                guard case .string(let name) = host else { throw LuaError(kind: "usage", "spec.placement.\(dc) must be a host name from spec.hosts (a string)") }
                result[dc] = name
            }
            return result
        default:
            throw LuaError(kind: "usage", "spec.placement must be a table of datacenter = host name: {dc1 = \"h1\", dc2 = \"h2\"}")
        }
    }

    static func engineName(_ value: ConfigValue?) throws -> Engine? {
        guard let value, value != .null else { return nil }
        guard case .string(let text) = value, let engine = EngineDiscovery.engine(named: text) else {
            throw LuaError(kind: "usage", "spec.runtime must be \"docker\" or \"podman\"")
        }
        return engine
    }

    /// attach(name) -> handle, or nil and an error value (no such cluster).
    static func attach(_ ctx: LuaCallContext) throws -> LuaReturn {
        let name = try ctx.string(1)
        let store = StateStore.fromEnvironment()
        return ctx.suspend({ () -> Result<Cluster, ClusterError> in
            do {
                return .success(try await Cluster.attach(name, store: store) { engine in EngineCache.shared.cached(engine) })
            } catch let error as ClusterError where error.kind == .notFound {
                return .failure(error)
            }
        }, then: { ctx, result in
            switch result {
            case .success(let cluster):
                ctx.push(ClusterHandle(cluster, engine: cluster.runtime.engine))
                return 1
            case .failure(let error):
                ctx.pushNil()
                ctx.vm.errors.push(error, on: ctx.state, where: .caller)
                return 2
            }
        })
    }

    static func list(_ ctx: LuaCallContext) throws -> LuaReturn {
        ctx.push(.array(StateStore.fromEnvironment().list().map { .string($0) }))
        return 1
    }

    /// merge_config(base, overlay) -> a new table: nested tables merge, json.null removes.
    static func mergeConfig(_ ctx: LuaCallContext) throws -> LuaReturn {
        try ctx.checkTable(1)
        try ctx.checkTable(2)
        let base = try LuaData.read(at: 1, on: ctx.state, path: "config")
        let overlay = try LuaData.read(at: 2, on: ctx.state, path: "config")
        LuaData.push(base.merging(overlay), on: ctx.state)
        return 1
    }
}

extension ClusterError: LuaErrorConvertible {
    public var luaError: LuaError {
        LuaError(kind: scriptKind, description, node: node, code: exitCode.map(Int.init))
    }
}
