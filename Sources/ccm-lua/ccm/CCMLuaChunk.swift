import ArgumentParser
import Bindings
import Core
import Foundation

/// ccm's commands are thin: each one writes a few lines of Lua against the public API
/// (`cluster.create`, `cluster.get`, `c:add_node`, `n:set_config`, ...) and runs them in the same
/// host a script runs in. So a profile plans nodes the same way for a script and for the shell,
/// and a cluster made either way is one the other can use.
enum CCMLuaChunk {
    /// Shared by every chunk: `get(name)` attaches or raises the API's own "no cluster" error.
    static let prelude = """
        local function get(name)
          local c, err = cluster.get(name)
          if not c then error(err, 0) end
          return c
        end
        local function node_of(c, name)
          for _, n in ipairs(c:nodes()) do if n.name == name then return n end end
          local names = {}
          for i, n in ipairs(c:nodes()) do names[i] = n.name end
          error(("cluster '%s' has no node '%s' (nodes: %s)"):format(c.name, name, table.concat(names, ", ")), 0)
        end
        """

    /// Runs `body` as command `command`. A failure prints "ccm-lua COMMAND: message" (no traceback:
    /// the user typed a command, not a script) and exits 1. With `printOnly`, prints `body` instead.
    static func run(_ command: String, _ body: String, printOnly: Bool) async throws {
        if printOnly {
            Output.line(body)
            return
        }
        let chunk = prelude + """

            local ok, err = pcall(function()
            \(body)
            end)
            if not ok then
              local text = type(err) == "table" and tostring(err.message) or tostring(err)
              -- The engine's own words say why (e.g. "connection refused" from a registry).
              if type(err) == "table" and type(err.stderr) == "string" then
                local said = (err.stderr:gsub("%s+$", ""):gsub("\\n", "\\n    "))
                text = text .. "\\n  " .. (err.cmd and ("`" .. err.cmd .. "` said:\\n    ") or "") .. said
              end
              io.stderr:write("ccm-lua \(command): ", text, "\\n")
              os.exit(1)
            end
            """
        LuaHost.handleSignals()
        let invocation = LuaHost.Invocation(actions: [.code(chunk)], commandLine: ["ccm-lua", command])
        let outcome = await LuaHost.run(invocation, settings: HostSettings.fromEnvironment())
        if outcome.status != 0 { throw ExitCode(outcome.status) }
    }
}

/// Lua source text for Swift values: what the chunks embed.
enum LuaLiteral {
    /// A quoted string; bytes outside printable ASCII as `\ddd`, which Lua reads back byte for byte.
    static func string(_ text: String) -> String {
        "\"" + text.utf8.map { byte -> String in
            switch byte {
            case UInt8(ascii: "\""): return "\\\""
            case UInt8(ascii: "\\"): return "\\\\"
            case 32..<127: return String(UnicodeScalar(byte))
            default: return String(format: "\\%03d", Int(byte))   // 3 digits: a digit after it stays a digit
            }
        }.joined() + "\""
    }

    static func optional(_ text: String?) -> String { text.map(string) ?? "nil" }

    static func list(_ items: [String]) -> String { "{" + items.map(string).joined(separator: ", ") + "}" }

    /// A config value typed as ccm's updateconf does: true/false, integers, numbers, else a string.
    static func scalar(_ text: String) -> String {
        if text == "true" || text == "false" { return text }
        if Int(text) != nil { return text }
        if let number = Double(text), number.isFinite, !text.lowercased().contains("inf"), !text.lowercased().contains("nan") { return text }
        return string(text)
    }

    /// `{"a.b:1", "c:x"}` → `{a = {b = 1}, c = "x"}` (dotted keys for nested options).
    static func config(_ pairs: [(path: [String], value: String)]) -> String {
        final class Tree { var leaves: [(String, String)] = []; var children: [(String, Tree)] = [] }
        let root = Tree()
        for pair in pairs {
            var tree = root
            for key in pair.path.dropLast() {
                if let existing = tree.children.first(where: { $0.0 == key })?.1 { tree = existing } else {
                    let child = Tree(); tree.children.append((key, child)); tree = child
                }
            }
            tree.leaves.removeAll { $0.0 == pair.path.last! }
            tree.leaves.append((pair.path.last!, scalar(pair.value)))
        }
        func render(_ tree: Tree) -> String {
            let fields = tree.leaves.map { "[\(string($0.0))] = \($0.1)" } + tree.children.map { "[\(string($0.0))] = \(render($0.1))" }
            return "{" + fields.joined(separator: ", ") + "}"
        }
        return render(root)
    }
}

/// `key:value` arguments of updateconf, split on the first ':'; keys split on '.'.
enum CCMConfigArguments {
    static func parse(_ arguments: [String]) throws -> [(path: [String], value: String)] {
        if arguments.isEmpty { throw ValidationError("give options as key:value (e.g. `updateconf heartbeat-interval:200 log.level:debug`)") }
        return try arguments.map { argument in
            guard let colon = argument.firstIndex(of: ":") else {
                throw ValidationError("'\(argument)' is not key:value (e.g. heartbeat-interval:200; dotted keys for nested options)")
            }
            let key = argument[..<colon], value = String(argument[argument.index(after: colon)...])
            let path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if path.contains(where: \.isEmpty) { throw ValidationError("'\(argument)': empty key") }
            return (path, value)
        }
    }
}
