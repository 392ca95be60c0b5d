import ArgumentParser
import Core
import Foundation

/// Options of every ccm-style command.
struct CCMOptions: ParsableArguments {
    @Flag(name: .customLong("print-lua"), help: "Print the Lua calls this command makes, without running them.")
    var printLua = false
}

/// `-n 3` or `-n 3:2` (nodes per data center, as ccm spells it) as the `nodes` field of a spec.
struct NodeCounts: ExpressibleByArgument, Equatable {
    var perDC: [Int]
    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        perDC = parts.map { $0! }
    }
    var lua: String {
        perDC.count == 1 ? "\(perDC[0])" : "{" + perDC.enumerated().map { "dc\($0.offset + 1) = \($0.element)" }.joined(separator: ", ") + "}"
    }
    static var defaultCompletionKind: CompletionKind { .default }
}

struct CCMCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a cluster (kept) and make it the current one, as `ccm create` does.",
        discussion: """
            Runs cluster.create{name =, profile =, image =, nodes =, runtime =, pull =, keep = true}. \
            Without -n nothing is created yet: `ccm-lua populate -n N` creates it with these options.
            """)

    @Argument(help: "The cluster's name.") var name: String
    @Option(name: .short, help: "Nodes: N, or N:M:... per data center.") var nodes: NodeCounts?
    @Flag(help: "The scylla profile (ccm-lua's default).") var scylla = false
    @Option(help: "The profile: scylla, cassandra, etcd, generic, or a Lua module name.") var profile: String?
    @Option(name: [.customLong("docker-image"), .customLong("docker")], help: "The image the nodes run.") var image: String?
    @Option(name: .customLong("container-runtime"), help: "docker or podman.") var runtime: String?
    @Flag(name: .customLong("pull-image"), help: "Pull the image even when it is here (pull = \"always\").") var pullImage = false
    @Flag(name: [.short, .customLong("start")], help: "Start the nodes and wait until they are ready.") var start = false
    @OptionGroup var options: CCMOptions

    func validate() throws {
        try Cluster.validate(name: name)
        if scylla && profile != nil && profile != "scylla" { throw ValidationError("--scylla and --profile \(profile!) contradict each other") }
        if let runtime, EngineDiscovery.engine(named: runtime) == nil {
            throw ValidationError("--container-runtime must be docker or podman (got '\(runtime)')")
        }
        if nodes == nil && start { throw ValidationError("-s needs nodes: give -n N, or start after `ccm-lua populate -n N`") }
    }

    var chunk: String {
        var fields = ["name = \(LuaLiteral.string(name))", "keep = true"]
        if let profile = profile ?? (scylla ? "scylla" : nil) { fields.append("profile = \(LuaLiteral.string(profile))") }
        if let image { fields.append("image = \(LuaLiteral.string(image))") }
        if let nodes { fields.append("nodes = \(nodes.lua)") }
        if let runtime { fields.append("runtime = \(LuaLiteral.string(EngineDiscovery.engine(named: runtime)!.rawValue))") }
        if pullImage { fields.append("pull = \"always\"") }
        var body = "local c = cluster.create{\(fields.joined(separator: ", "))}"
        if start { body += "\nc:start()" }
        return body
    }

    func run() async throws { try await create(populating: false) }

    /// `populating`: called by `populate`, for the options a `create` without -n kept.
    func create(populating: Bool) async throws {
        let current = CurrentCluster()
        // Before any engine is asked; the current cluster stays as it was.
        if current.store.exists(name) || (!populating && CCMPending(store: current.store).arguments(name) != nil) {
            throw Output.fail("create", "a cluster named '\(name)' exists already; pick another name, `ccm-lua switch \(name)` to use it, or `ccm-lua remove \(name)`")
        }
        guard nodes != nil else {
            try CCMPending(store: current.store).save(name, arguments: Array(CommandLine.arguments.dropFirst(2)))
            try current.set(name)
            return
        }
        if options.printLua { return try await CCMLuaChunk.run("create", chunk, printOnly: true) }
        var failure: (any Error)?
        do { try await CCMLuaChunk.run("create", chunk, printOnly: false) } catch { failure = error }
        // A cluster that exists (also when -s failed to start it) is the current one, as in ccm.
        if current.store.exists(name) {
            try current.set(name)
            CCMPending(store: current.store).remove(name)
        }
        if let failure { throw failure }
    }
}

/// Options of a `create` without -n, until `populate` makes the nodes.
struct CCMPending {
    let store: StateStore
    private func file(_ name: String) -> URL { store.home.appendingPathComponent(".pending").appendingPathComponent(name + ".json") }
    func save(_ name: String, arguments: [String]) throws {
        try FileManager.default.createDirectory(at: file(name).deletingLastPathComponent(), withIntermediateDirectories: true)
        try writeAtomically(try JSONEncoder().encode(arguments), to: file(name))
    }
    func arguments(_ name: String) -> [String]? {
        FileManager.default.contents(atPath: file(name).path).flatMap { try? JSONDecoder().decode([String].self, from: $0) }
    }
    func remove(_ name: String) { try? FileManager.default.removeItem(at: file(name)) }
    /// The clusters waiting for `populate`.
    func names() -> [String] {
        let folder = store.home.appendingPathComponent(".pending").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }
    }
}

struct CCMPopulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "populate",
        abstract: "Create the nodes of the current cluster, made by `ccm-lua create` without -n.")
    @Option(name: .short, help: "Nodes: N, or N:M:... per data center.") var nodes: NodeCounts
    @Flag(name: [.short, .customLong("start")], help: "Start the nodes too.") var start = false
    @OptionGroup var options: CCMOptions

    func run() async throws {
        let current = CurrentCluster()
        guard let name = current.name else { throw Output.fail("populate", try CCMErrors.noCurrent(current)) }
        guard let saved = CCMPending(store: current.store).arguments(name) else {
            throw Output.fail("populate", "cluster '\(name)' has its nodes already; add more with `ccm-lua add node<N>`")
        }
        var arguments = ["create"] + saved + ["-n", nodes.perDC.map(String.init).joined(separator: ":")]
        if start { arguments.append("-s") }
        if options.printLua { arguments.append("--print-lua") }
        let create = try CCMCreate.parse(Array(arguments.dropFirst()))
        try await create.create(populating: true)
    }
}

enum CCMErrors {
    static func noCurrent(_ current: CurrentCluster) throws -> String {
        do { _ = try current.resolve(nil); return "" } catch { return "\(error)" }
    }

    /// The cluster a command acts on: `explicit`, else the current one.
    static func cluster(_ command: String, _ explicit: String? = nil) throws -> String {
        do { return try CurrentCluster().resolve(explicit) } catch { throw Output.fail(command, error) }
    }
}

struct CCMAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a node to the current cluster (c:add_node).",
        discussion: "Nodes are named in order: the name given must be the next one (node<count+1>).")
    @Argument(help: "The new node's name, e.g. node4.") var node: String
    @Option(help: "Its data center.") var dc: String?
    @Flag(name: [.short, .customLong("start")], help: "Start it and wait until it is ready.") var start = false
    @Option(name: [.customLong("docker-image"), .customLong("docker")], help: "Refused: every node runs the cluster's image.") var image: String?
    @OptionGroup var options: CCMOptions

    func validate() throws {
        guard node.wholeMatch(of: /node[1-9][0-9]*/) != nil else { throw ValidationError("node names are node1, node2, ... (got '\(node)')") }
        if image != nil {
            throw ValidationError("--docker-image on add: every node of a ccm-lua cluster runs the cluster's image; create another cluster for another image")
        }
    }

    func chunk(cluster: String) -> String {
        var opts: [String] = []
        if let dc { opts.append("dc = \(LuaLiteral.string(dc))") }
        if start { opts.append("start = true") }
        return """
            local c = get(\(LuaLiteral.string(cluster)))
            local last = 0
            for _, n in ipairs(c:nodes()) do last = math.max(last, n.index) end
            local next = "node" .. (last + 1)
            if next ~= \(LuaLiteral.string(node)) then error(("the next node of '%s' is %s (nodes are named in order)"):format(c.name, next), 0) end
            c:add_node{\(opts.joined(separator: ", "))}
            """
    }

    func run() async throws {
        try await CCMLuaChunk.run("add", chunk(cluster: try CCMErrors.cluster("add")), printOnly: options.printLua)
    }
}

struct CCMStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Start every node of the current cluster (c:start).",
        discussion: "c:start waits until every node is ready; --wait-other-notice is accepted and changes nothing.")
    @Flag(name: .customLong("no-wait"), help: "Do not wait until the nodes are ready.") var noWait = false
    @Flag(name: .customLong("wait-other-notice"), help: "Accepted for ccm; ccm-lua always waits for every node's readiness.") var waitOtherNotice = false
    @OptionGroup var options: CCMOptions
    func chunk(cluster: String) -> String { "get(\(LuaLiteral.string(cluster))):start{wait = \(!noWait)}" }
    func run() async throws {
        try await CCMLuaChunk.run("start", chunk(cluster: try CCMErrors.cluster("start")), printOnly: options.printLua)
    }
}

struct CCMStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop every node of the current cluster (c:stop).")
    @Flag(name: .customLong("not-gently"), help: "Kill the nodes instead of asking them to stop.") var notGently = false
    @OptionGroup var options: CCMOptions
    func chunk(cluster: String) -> String { "get(\(LuaLiteral.string(cluster))):stop{gently = \(!notGently)}" }
    func run() async throws {
        try await CCMLuaChunk.run("stop", chunk(cluster: try CCMErrors.cluster("stop")), printOnly: options.printLua)
    }
}

struct CCMUpdateconf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "updateconf", abstract: "Change the cluster's configuration (c:set_config): every node's, at its next start, and that of nodes added later.")
    @Argument(help: "key:value pairs; dotted keys for nested options.") var settings: [String] = []
    @OptionGroup var options: CCMOptions
    func validate() throws { _ = try CCMConfigArguments.parse(settings) }
    func chunk(cluster: String) throws -> String {
        """
        get(\(LuaLiteral.string(cluster))):set_config(\(LuaLiteral.config(try CCMConfigArguments.parse(settings))))
        """
    }
    func run() async throws {
        try await CCMLuaChunk.run("updateconf", try chunk(cluster: try CCMErrors.cluster("updateconf")), printOnly: options.printLua)
    }
}

struct CCMLiveset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "liveset", abstract: "The addresses of the running nodes, comma-separated.")
    @OptionGroup var options: CCMOptions
    func chunk(cluster: String) -> String {
        """
        local ips = {}
        for _, s in ipairs(get(\(LuaLiteral.string(cluster))):status()) do
          if s.state == "running" and s.ip then ips[#ips + 1] = s.ip end
        end
        print(table.concat(ips, ","))
        """
    }
    func run() async throws {
        try await CCMLuaChunk.run("liveset", chunk(cluster: try CCMErrors.cluster("liveset")), printOnly: options.printLua)
    }
}

struct CCMShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "The current cluster: profile, image, engine and each node.")
    @OptionGroup var options: CCMOptions
    func chunk(cluster: String) -> String {
        """
        local c = get(\(LuaLiteral.string(cluster)))
        print(("%s: profile %s, image %s, on %s, network %s"):format(c.name, c.profile, c.image, c.runtime, c.network))
        for _, s in ipairs(c:status()) do print(("  %s: %s %s"):format(s.name, s.state, s.ip or "-")) end
        """
    }
    func run() async throws {
        try await CCMLuaChunk.run("show", chunk(cluster: try CCMErrors.cluster("show")), printOnly: options.printLua)
    }
}

/// `flush` and `compact`: nodetool on every running node, where the profile has nodetool.
struct CCMNodetoolAll {
    static func chunk(cluster: String, verb: String) -> String {
        """
        local c = get(\(LuaLiteral.string(cluster)))
        for _, s in ipairs(c:status()) do
          if s.state == "running" then
            local n = c:node(s.name)
            if not n.nodetool then error(("profile %s has no nodetool: %s is for scylla and cassandra clusters"):format(c.profile, \(LuaLiteral.string(verb))), 0) end
            n:nodetool(\(LuaLiteral.string(verb)))
          end
        end
        """
    }
}

struct CCMFlush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "flush", abstract: "nodetool flush on every running node.")
    @OptionGroup var options: CCMOptions
    func run() async throws {
        try await CCMLuaChunk.run("flush", CCMNodetoolAll.chunk(cluster: try CCMErrors.cluster("flush"), verb: "flush"), printOnly: options.printLua)
    }
}

struct CCMCompact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compact", abstract: "nodetool compact on every running node.")
    @OptionGroup var options: CCMOptions
    func run() async throws {
        try await CCMLuaChunk.run("compact", CCMNodetoolAll.chunk(cluster: try CCMErrors.cluster("compact"), verb: "compact"), printOnly: options.printLua)
    }
}

struct CCMSwitch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "switch", abstract: "Make NAME the current cluster.")
    @Argument(help: "A cluster in the state directory (`ccm-lua list`).") var name: String
    func run() async throws {
        do {
            let current = CurrentCluster()
            // A cluster waiting for `populate` is one too (`list` shows it).
            if CCMPending(store: current.store).arguments(name) == nil { _ = try ClusterInventory().record(name) }
            try current.set(name)
        } catch { throw Output.fail("switch", error) }
    }
}

struct CCMList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Cluster names, the current one marked with *, as `ccm list` prints them (`ls` shows a table).")
    func run() async throws {
        let current = CurrentCluster()
        // A cluster made by `create` without -n is one already, waiting for `populate`.
        let names = Set(current.store.list()).union(CCMPending(store: current.store).names()).sorted()
        for name in names { Output.line((name == current.name ? " *" : "  ") + name) }
    }
}

struct CCMRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a cluster (the current one when no name is given), as `rm` does.")
    @Argument(help: "The cluster; the current one when omitted.") var name: String?
    func run() async throws {
        let current = CurrentCluster()
        let target: String
        if let name { target = name } else if let pending = current.name, CCMPending(store: current.store).arguments(pending) != nil {
            target = pending
        } else {
            target = try CCMErrors.cluster("remove")
        }
        CCMPending(store: current.store).remove(target)
        do {
            let removals = try await ClusterInventory().remove(target)
            removals.forEach { Output.line(Remove.describe($0)) }
        } catch { throw Output.fail("remove", error) }
        current.clear(ifItIs: target)
    }
}

struct CCMClear: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear",
        abstract: "Stop every node of the current cluster and empty its data folders, as `ccm clear` does.",
        discussion: "The nodes keep their configuration and captured logs; the next start begins with no data.")
    @OptionGroup var options: CCMOptions
    func chunk(cluster: String) -> String { "get(\(LuaLiteral.string(cluster))):stop{gently = false}" }
    func run() async throws {
        let name = try CCMErrors.cluster("clear")
        try await CCMLuaChunk.run("clear", chunk(cluster: name), printOnly: options.printLua)
        if options.printLua { return }
        do {
            let inventory = ClusterInventory()
            try inventory.store.clearNodeData(try inventory.record(name))
        } catch { throw Output.fail("clear", error) }
    }
}
