import CLua
import Core
import Foundation

/// A Core `Cluster` as Lua holds it (`c._handle` in cluster.lua). Methods take node names; every
/// engine call suspends the calling coroutine, so `parallel` branches really overlap.
final class ClusterHandle: LuaObject {
    static let luaTypeName = "ccm.ClusterHandle"
    let cluster: Cluster
    let engine: Engine
    /// The "remove at exit" entry; dropped once the script removes the cluster itself.
    var cleanup: CleanupRegistry.Handle?

    init(_ cluster: Cluster, engine: Engine) {
        self.cluster = cluster; self.engine = engine
    }

    var luaDescription: String { cluster.name }

    static func declareMembers(_ m: inout LuaMembers<ClusterHandle>) {
        m.method("info") { h, ctx in
            let cluster = h.cluster, engine = h.engine
            return ctx.suspend({ await cluster.snapshot }) { ctx, record in
                ctx.push(.table([
                    "name": .string(record.name), "profile": .string(record.profile), "image": .string(record.image),
                    "runtime": .string(engine.rawValue), "network": .string(record.network), "keep": .boolean(record.keep),
                    "nodes": .array(record.nodes.map { node in
                        var fields: [String: LuaValue] = ["name": .string(node.name), "index": .integer(node.index),
                                                          "container": .string(node.container), "image": .string(node.plan.image)]
                        if let dc = node.dc { fields["dc"] = .string(dc) }
                        if let host = node.host { fields["host"] = .string(host) }
                        if let id = node.imageID { fields["image_id"] = .string(id) }
                        if let digest = node.imageDigest { fields["image_digest"] = .string(digest) }
                        return .table(fields)
                    }),
                ]))
                if let hosts = record.hosts {
                    LuaStack.push("hosts", on: ctx.state)
                    LuaData.push(.map(hosts.map { ($0.name, .string($0.address)) }), on: ctx.state)
                    lua_rawset(ctx.state, -3)
                }
                if let request = record.request {
                    LuaStack.push("spec", on: ctx.state)
                    LuaData.push(request, on: ctx.state)
                    lua_rawset(ctx.state, -3)
                }
                return 1
            }
        }

        m.method("start", start)

        m.method("stop") { h, ctx in
            let names = try nodeList(ctx, 2)
            let options = try ctx.options(3)
            let gently = try options?.boolean("gently") ?? true
            let timeout = try options?.number("timeout") ?? Defaults.stopTimeout
            let cluster = h.cluster
            return ctx.suspend { try await cluster.stop(nodes: names, gently: gently, timeout: timeout) }
        }

        m.method("remove") { h, ctx in
            let cluster = h.cluster
            // The removal at exit stays registered until this one succeeded: it retries a failed one.
            return ctx.suspend({ try await cluster.remove() }) { ctx, _ in
                if let entry = h.cleanup { ctx.cleanup.remove(entry); h.cleanup = nil }
                return 0
            }
        }

        // keep(): left running when the script ends (the test runner's --keep-on-failure).
        m.method("keep") { h, ctx in
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.keepAfterExit() }) { ctx, _ in
                if let entry = h.cleanup { ctx.cleanup.remove(entry); h.cleanup = nil }
                return 0
            }
        }

        m.method("status") { h, ctx in
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.status() }) { ctx, statuses in
                ctx.push(.array(statuses.map { s in
                    var fields: [String: LuaValue] = ["name": .string(s.name), "state": .string(s.nodeState),
                                                      "image": .string(s.image)]
                    if let ip = s.ip { fields["ip"] = .string(ip) }
                    return .table(fields)
                }))
                return 1
            }
        }

        m.method("add_node") { h, ctx in
            try ctx.checkTable(2)
            let spec = try ClusterModule.nodeSpec(try LuaData.read(at: 2, on: ctx.state, path: "node"))
            let cluster = h.cluster
            return ctx.suspend { try await cluster.addNode(spec, pullOutput: .standardError()) }
        }

        // remove_node(name, {gently =, timeout =}): the profile's on_remove ran before, in Lua.
        m.method("remove_node") { h, ctx in
            let name = try ctx.string(2)
            let options = try ctx.options(3)
            let gently = try options?.boolean("gently") ?? true
            let timeout = try options?.number("timeout") ?? Defaults.stopTimeout
            let cluster = h.cluster
            return ctx.suspend { try await cluster.removeNode(name, gently: gently, timeout: timeout) }
        }

        // merge_cluster_config(overlay) -> the cluster's configuration, kept for nodes added later.
        m.method("merge_cluster_config") { h, ctx in
            try ctx.checkTable(2)
            let overlay = try LuaData.read(at: 2, on: ctx.state, path: "config")
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.mergeClusterConfig(overlay) }) { ctx, merged in
                LuaData.push(merged, on: ctx.state)
                return 1
            }
        }

        m.method("update_node") { h, ctx in
            let name = try ctx.string(2)
            try ctx.checkTable(3)
            let plan = try PlanReader(node: name, plan: try LuaData.read(at: 3, on: ctx.state, path: "plan")).read()
            let config = try LuaData.read(at: 4, on: ctx.state, path: "config")
            let cluster = h.cluster
            return ctx.suspend { try await cluster.update(node: name, plan: plan, config: config) }
        }

        m.method("config") { h, ctx in
            let name = try ctx.string(2)
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.node(name).config }) { ctx, config in
                LuaData.push(config, on: ctx.state)
                return 1
            }
        }

        m.method("state") { h, ctx in
            let name = try ctx.string(2)
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.state(of: name) }) { ctx, state in
                ctx.push(state.nodeState)
                return 1
            }
        }

        m.method("ip") { h, ctx in
            let name = try ctx.string(2)
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.ip(of: name) }) { ctx, ip in
                if let ip { ctx.push(ip) } else { ctx.pushNil() }
                return 1
            }
        }

        m.method("endpoint") { h, ctx in
            let name = try ctx.string(2)
            let port = try ctx.integer(3)
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.endpoint(of: name, port: port) }) { ctx, endpoint in
                ctx.push(endpoint)
                return 1
            }
        }

        m.method("kill") { h, ctx in
            let name = try ctx.string(2)
            let signal = try ctx.optionalString(3) ?? "KILL"
            let cluster = h.cluster
            return ctx.suspend { try await cluster.kill(node: name, signal: signal) }
        }

        m.method("pause") { h, ctx in
            let name = try ctx.string(2)
            let cluster = h.cluster
            return ctx.suspend { try await cluster.pause(node: name) }
        }

        m.method("resume") { h, ctx in
            let name = try ctx.string(2)
            let cluster = h.cluster
            return ctx.suspend { try await cluster.resume(node: name) }
        }

        m.method("exec") { h, ctx in
            let name = try ctx.string(2)
            // A string runs through the shell: Core's rule, for every path that takes one.
            var request = ExecRequest(argv: ctx.type(at: 3) == .string ? ShellCommand.argv(try ctx.string(3)) : try ctx.stringList(3))
            if request.argv.isEmpty { throw LuaArgumentError(3, detail: "the command is empty") }
            if let options = try ctx.options(4) {
                request.env = try options.stringMap("env") ?? [:]
                request.user = try options.string("user")
                request.workdir = try options.string("workdir")
                request.stdin = try options.bytes("stdin")
                request.timeout = try options.number("timeout")
            }
            let cluster = h.cluster, command = request
            return ctx.suspend({ try await cluster.exec(node: name, command) }) { ctx, result in
                ctx.push(.table(["code": .integer(Int(result.code)), "stdout": .string(result.stdout),
                                 "stderr": .string(result.stderr), "duration": .number(result.duration)]))
                return 1
            }
        }

        m.method("mark") { h, ctx in
            let name = try ctx.string(2)
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.log(of: name).mark() }) { ctx, offset in
                ctx.push(Int(offset))
                return 1
            }
        }

        m.method("wait_log") { h, ctx in
            let name = try ctx.string(2)
            let options = try ctx.options(4)
            let pattern = try LogPattern(try ctx.string(3), plain: try options?.boolean("plain") ?? false)
            let from = Int64(try options?.integer("from") ?? 0)
            let timeout = try options?.number("timeout") ?? Defaults.waitLogTimeout
            let count = try options?.integer("count") ?? 1
            guard count >= 1 else { throw LuaArgumentError(4, detail: "field 'count': must be at least 1") }
            let cluster = h.cluster
            return ctx.suspend({
                try await cluster.log(of: name).wait(for: pattern, from: from, count: count, timeout: timeout, nodeName: name)
            }) { ctx, lines in
                ctx.push(.array(lines.map { .string($0) }))
                return 1
            }
        }

        m.method("grep_log") { h, ctx in
            let name = try ctx.string(2)
            let options = try ctx.options(4)
            let pattern = try LogPattern(try ctx.string(3), plain: try options?.boolean("plain") ?? false)
            let from = Int64(try options?.integer("from") ?? 0)
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.log(of: name).grep(pattern, from: from) }) { ctx, lines in
                ctx.push(.array(lines.map { .string($0) }))
                return 1
            }
        }

        m.method("logs") { h, ctx in
            let name = try ctx.string(2)
            let tail = try ctx.optionalInteger(3) ?? 100
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.log(of: name).tail(tail) }) { ctx, lines in
                ctx.push(lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n"))
                return 1
            }
        }

        m.method("put_file") { h, ctx in
            let name = try ctx.string(2)
            let path = try ctx.string(3)
            let content = try ctx.bytes(4)
            let cluster = h.cluster
            return ctx.suspend { try await cluster.putFile(node: name, path: path, content: content) }
        }

        m.method("get_file") { h, ctx in
            let name = try ctx.string(2)
            let path = try ctx.string(3)
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.getFile(node: name, path: path) }) { ctx, bytes in
                ctx.push(bytes: bytes)
                return 1
            }
        }

        m.method("add_service") { h, ctx in
            try ctx.checkTable(2)
            let spec = try serviceSpec(try LuaData.read(at: 2, on: ctx.state, path: "service"))
            let cluster = h.cluster
            return ctx.suspend({ try await cluster.addService(spec) }) { ctx, container in
                ctx.push(container)
                return 1
            }
        }

        m.method("run_once") { h, ctx in
            try ctx.checkTable(2)
            let value = try LuaData.read(at: 2, on: ctx.state, path: "run_once")
            let spec = try serviceSpec(.map([("name", .string("once"))] + (value.mapEntries ?? [])))
            let timeout = try ctx.options(2)?.number("timeout") ?? Defaults.runOnceTimeout
            let cluster = h.cluster
            return ctx.suspend({
                try await cluster.runOnce(image: spec.image, command: spec.command, entrypoint: spec.entrypoint, env: spec.env,
                                          timeout: timeout)
            }) { ctx, result in
                // `output` (stdout, then stderr) stays for scripts written before the two were apart.
                ctx.push(.table(["code": .integer(Int(result.code)), "stdout": .string(result.stdout), "stderr": .string(result.stderr),
                                 "output": .string(result.stdout + result.stderr), "duration": .number(result.duration)]))
                return 1
            }
        }
    }

    /// start(names | nil, {wait =, timeout =}), with progress output while waiting.
    private static func start(_ h: ClusterHandle, _ ctx: LuaCallContext) throws -> LuaReturn {
        let names = try nodeList(ctx, 2)
        let options = try ctx.options(3)
        let wait: Bool = try options?.boolean("wait") ?? true
        // Nil: the profile's ready.timeout, else Defaults.startTimeout (Core decides).
        let timeout: Double? = try options?.number("timeout")
        let cluster = h.cluster
        let printer = wait ? ctx.vm.settings.startProgress?(cluster.name) : nil
        let work: @Sendable () async throws -> Void = {
            defer { printer?.finish() }
            try await cluster.start(nodes: names, wait: wait, timeout: timeout, progress: { progress in printer?.update(progress) })
        }
        return ctx.suspend(work)
    }

    /// Argument `index`: nil (every node) or a list of node names.
    private static func nodeList(_ ctx: LuaCallContext, _ index: Int32) throws -> [String]? {
        ctx.isNoneOrNil(index) ? nil : try ctx.stringList(index)
    }

    /// `{name =, image =, env =, command =, entrypoint =, volumes =, ports =}`; read as a plan, so
    /// a string `command` runs through the shell there.
    private static func serviceSpec(_ value: ConfigValue) throws -> ServiceSpec {
        guard case .string(let name)? = value["name"], case .string(let image)? = value["image"] else {
            throw LuaError(kind: "usage", "a service needs a name and an image")
        }
        let read = try PlanReader(node: name, plan: value).read()
        var spec = ServiceSpec(name: name, image: image)
        spec.env = read.env
        spec.command = read.command
        spec.entrypoint = read.entrypoint
        spec.volumes = read.volumes
        spec.ports = read.ports
        return spec
    }
}

extension ConfigValue {
    var mapEntries: [(key: String, value: ConfigValue)]? {
        if case .map(let entries) = self { return entries }
        return nil
    }
}
