import Core
import Foundation

/// `ccm.fault.native`: the Swift half of the `fault` module and of `c:partition`/`c:heal`
/// (lua/ccm/fault.lua). It reads what Lua resolved (node names, numbers) and calls the cluster's
/// Core `FaultInjector`; no rule is made here.
enum FaultModule {
    static var module: LuaModule {
        var module = LuaModule("ccm.fault.native")
        module.function("apply", apply)
        module.function("heal", heal)
        module.function("heal_all", healAll)
        module.function("preset", preset)
        module.function("seed", seed)
        module.function("mechanism", mechanism)
        module.function("record", record)
        module.function("record_end", recordEnd)
        module.function("history", history)
        return module
    }

    /// apply(cluster_handle, {kind =, groups = {{names}} | grudge = {name = {names}}, node =, from =, to =,
    /// percent =, kbit =, ms =, jitter =, signal =, duration =}) -> {id =, groups =}
    static func apply(_ ctx: LuaCallContext) throws -> LuaReturn {
        let handle = try ctx.object(1, as: ClusterHandle.self)
        try ctx.checkTable(2)
        let spec = try LuaData.read(at: 2, on: ctx.state, path: "fault")
        guard case .string(let kind)? = spec["kind"] else { throw LuaArgumentError(2, detail: "field 'kind': string expected") }
        let duration = number(spec["duration"])
        if let duration, !(duration >= 0) { throw LuaError(kind: "usage", "duration must be a number of seconds >= 0, got \(duration)") }
        let cluster = handle.cluster
        let fault = try makeFault(kind, spec, cluster: cluster)
        let injector = cluster.faults
        let id = FaultInjector.newID()
        // Registered before anything is applied: the heal at exit (end, error, Ctrl-C) must also
        // catch a fault whose apply is still under way. It runs before the cluster's removal
        // (entries run newest first) and for kept clusters too.
        let applying = Task { try await injector.apply(fault, id: id, duration: duration) }
        let healAtExit: @Sendable () async -> Void = {
            _ = await applying.result
            do { try await injector.heal(id) } catch {
                FileHandle.standardError.write(Data("ccm-lua: could not heal \(fault.name) on cluster '\(cluster.name)': \(error)\n".utf8))
            }
        }
        ctx.cleanup.add("heal fault \(id) of \(cluster.name)", healAtExit)
        return ctx.suspend({ try await applying.value }) { ctx, _ in
            ctx.push(.table(["id": .integer(id), "groups": .array(fault.groups.map { .array($0.map { .string($0) }) })]))
            return 1
        }
    }

    private static func makeFault(_ kind: String, _ spec: ConfigValue, cluster: Cluster) throws -> Fault {
        func name(_ key: String) throws -> String {
            guard case .string(let value)? = spec[key] else { throw LuaError(kind: "usage", "fault \(kind): '\(key)' must name a node") }
            return value
        }
        func percent() throws -> Double {
            guard let p = number(spec["percent"]), p >= 0, p <= 100 else {
                throw LuaError(kind: "usage", "fault.\(kind) needs percent = a number from 0 to 100")
            }
            return p
        }
        let to = try names(spec["to"], what: "to")
        switch kind {
        case "partition":
            if case .map(let entries)? = spec["grudge"] {
                var grudge: Grudge = [:]
                for (node, peers) in entries { grudge[node] = Set(try names(peers, what: "grudge") ?? []) }
                return .partition(grudge: grudge, groups: try groups(spec["groups"]))
            }
            guard case .list(let nodeValues)? = spec["nodes"] else { throw LuaArgumentError(2, detail: "field 'nodes': list expected") }
            let nodes = nodeValues.compactMap { if case .string(let s) = $0 { s } else { nil } }
            let made = try PartitionShape.grudge(groups: try groups(spec["groups"]), nodes: nodes)
            return .partition(grudge: made.grudge, groups: made.groups)
        case "block":
            let from = try name("from"), target = try name("to_node")
            guard from != target else { throw LuaError(kind: "usage", "fault.block: a node cannot be blocked from itself (\(from))") }
            return .block(from: from, to: target)
        case "loss":
            return .loss(node: try name("node"), percent: try percent(), to: to)
        case "rate":
            guard let kbit = number(spec["kbit"]), kbit > 0 else { throw LuaError(kind: "usage", "fault.rate needs kbit = a number > 0") }
            return .rate(node: try name("node"), kbit: kbit, to: to)
        case "delay":
            guard let ms = number(spec["ms"]), ms >= 0 else { throw LuaError(kind: "usage", "fault.delay needs ms = a number >= 0") }
            return .netem(node: try name("node"), .delay(ms: ms, jitter: number(spec["jitter"]) ?? 0), to: to)
        case "duplicate": return .netem(node: try name("node"), .duplicate(percent: try percent()), to: to)
        case "corrupt": return .netem(node: try name("node"), .corrupt(percent: try percent()), to: to)
        case "reorder": return .netem(node: try name("node"), .reorder(percent: try percent()), to: to)
        case "pause":
            let node = try name("node")
            return .action(name: "pause", node: node, start: { try await cluster.pause(node: node) },
                           heal: { try await cluster.resume(node: node) })
        case "kill":
            let node = try name("node")
            let signal: String
            if case .string(let s)? = spec["signal"] { signal = s } else { signal = "KILL" }
            return .action(name: "kill", node: node, start: { try await cluster.kill(node: node, signal: signal) },
                           heal: { try await cluster.start(nodes: [node], wait: false) })
        default:
            throw LuaError(kind: "usage", "unknown fault kind '\(kind)'")
        }
    }

    private static func number(_ value: ConfigValue?) -> Double? {
        switch value {
        case .int(let i)?: Double(i)
        case .double(let d)?: d
        default: nil
        }
    }

    private static func names(_ value: ConfigValue?, what: String) throws -> [String]? {
        switch value {
        case nil, .null?: return nil
        case .map(let entries)? where entries.isEmpty: return []
        case .list(let items)?:
            return try items.map { item in
                guard case .string(let s) = item else { throw LuaError(kind: "usage", "\(what) must list nodes") }
                return s
            }
        default: throw LuaError(kind: "usage", "\(what) must list nodes")
        }
    }

    private static func groups(_ value: ConfigValue?) throws -> [[String]] {
        guard case .list(let items)? = value else { return [] }
        return try items.map { try names($0, what: "a partition group") ?? [] }
    }

    static func heal(_ ctx: LuaCallContext) throws -> LuaReturn {
        let injector = try ctx.object(1, as: ClusterHandle.self).cluster.faults
        let id = try ctx.integer(2)
        return ctx.suspend { try await injector.heal(id) }
    }

    static func healAll(_ ctx: LuaCallContext) throws -> LuaReturn {
        let injector = try ctx.object(1, as: ClusterHandle.self).cluster.faults
        return ctx.suspend { try await injector.healAll() }
    }

    /// preset(name, {node names}, seed) -> groups
    static func preset(_ ctx: LuaCallContext) throws -> LuaReturn {
        let name = try ctx.string(1)
        let nodes = try ctx.stringList(2)
        let seed = UInt64(bitPattern: Int64(try ctx.integer(3)))
        let made = try PartitionShape.preset(name, nodes: nodes, seed: seed)
        var grudge: [String: LuaValue] = [:]
        for (node, peers) in made.grudge { grudge[node] = .array(peers.sorted().map { .string($0) }) }
        ctx.push(.array(made.groups.map { .array($0.map { .string($0) }) }))
        ctx.push(.table(grudge))
        return 2
    }

    static func seed(_ ctx: LuaCallContext) throws -> LuaReturn {
        ctx.push(Int(Int64(bitPattern: RunSeed.value)))
        return 1
    }

    static func mechanism(_ ctx: LuaCallContext) throws -> LuaReturn {
        let injector = try ctx.object(1, as: ClusterHandle.self).cluster.faults
        return ctx.suspend({ try await injector.mechanism() }) { ctx, mechanism in
            ctx.push(mechanism.rawValue)
            return 1
        }
    }

    /// record(kind, name, {targets}, {details}) -> id: an operation of the Lua library (a nemesis
    /// schedule, say) in the run's history.
    static func record(_ ctx: LuaCallContext) throws -> LuaReturn {
        let kind = try ctx.string(1), name = try ctx.string(2)
        let targets = ctx.isNoneOrNil(3) ? [] : try ctx.stringList(3)
        var details: [String: String] = [:]
        if !ctx.isNoneOrNil(4) {
            try ctx.checkTable(4)
            details = try LuaStack.stringMap(at: 4, on: ctx.state) { LuaArgumentError(4, detail: "details: strings only (at \($0))") }
        }
        ctx.push(History.run.begin(kind: kind, name: name, targets: targets, details: details))
        return 1
    }

    static func recordEnd(_ ctx: LuaCallContext) throws -> LuaReturn {
        History.run.end(try ctx.integer(1))
        return 0
    }

    /// history() -> {{kind =, name =, targets =, details =, start =, ["end"] =}} (monotonic ns):
    /// the run's faults and nemesis schedules. The whole history (cluster, node, exec, wait, step)
    /// is history.jsonl's (docs/runner.md).
    static func history(_ ctx: LuaCallContext) throws -> LuaReturn {
        let faultKinds: Set<String> = ["fault", "nemesis"]
        ctx.push(.array(History.run.events.filter { faultKinds.contains($0.kind) }.map { event in
            var fields: [String: LuaValue] = [
                "id": .integer(event.id), "kind": .string(event.kind), "name": .string(event.name),
                "targets": .array(event.targets.map { .string($0) }), "start": .integer(Int(event.start)),
                "details": .table(event.details.mapValues { .string($0) }),
            ]
            if let end = event.end { fields["end"] = .integer(Int(end)) }
            return .table(fields)
        }))
        return 1
    }
}

extension FaultError: LuaErrorConvertible {
    public var luaError: LuaError { LuaError(kind: kind.rawValue, message, node: node) }
}
