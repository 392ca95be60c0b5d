import Foundation
import Testing
import Core

/// `ccm-lua doctor`'s name-resolution check through the built binary, on real engines: it passes
/// where containers resolve each other by name, and on a Podman whose CNI backend lacks the
/// `dnsname` plugin it fails, naming the cause and the fix. Serialized: the leak check looks for
/// any doctor network or container on the engine.
@Suite(.serialized) struct DoctorTests {
    /// Runs `ccm-lua doctor ARGS` with `environment` added to this process's.
    static func doctor(_ arguments: [String], environment: [String: String]) async throws -> ProcessRunner.Output {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-doctor-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        var environment = environment
        environment["CCM_LUA_HOME"] = home.path
        // Two busy cores: the check's own limit is 60 s; this only stops a hung binary.
        return try await ProcessRunner.run([Binary.path, "doctor"] + arguments, environment: environment, timeout: 300)
    }

    /// What the check may have left on `runtime`: its networks and containers are named
    /// `ccm-lua-doctor-...`. Removed here (so a failing test leaves nothing either) and returned.
    static func removeLeftovers(_ runtime: CLIContainerRuntime) async throws -> [String] {
        let containers = try await runtime.listContainers(labels: [Labels.cluster: ""])
            .map(\.name).filter { $0.hasPrefix("ccm-lua-doctor-") }
        let networks = try await runtime.listNetworks(labels: [Labels.cluster: ""]).filter { $0.hasPrefix("ccm-lua-doctor-") }
        try await runtime.remove(all: containers)
        for network in networks { try await runtime.removeNetwork(network) }
        return containers + networks
    }

    @Test(arguments: Engine.allCases)
    func namesResolveOnTheEngine(_ engine: Engine) async throws {
        let runtime = try await Integration.runtime(engine, images: [Integration.etcdImage])
        let output = try await Self.doctor(["--probe-image", Integration.etcdImage],
                                           environment: ["CCM_LUA_RUNTIME": engine.rawValue])
        let left = try await Self.removeLeftovers(runtime)
        #expect(output.code == 0, "\(output.stdoutText)\n\(output.stderrText)")
        let section = output.stdoutText.components(separatedBy: "\n\(engine.rawValue):\n").last ?? ""
        #expect(section.contains("name resolution on a user network (\(Integration.etcdImage)): ok"), "\(output.stdoutText)")
        #expect(left.isEmpty, "left behind by doctor: \(left)")
    }

    /// Podman reads only CONTAINERS_CONF when it is set: a copy of the system's settings whose
    /// `cni_plugin_dirs` is a copy of the CNI plugins without `dnsname` is a Podman without the
    /// DNS plugin, as Debian installs it with --no-install-recommends.
    @Test func podmanWithoutTheDNSPluginFailsNamingCauseAndFix() async throws {
        let system = try await Integration.runtime(.podman, images: [Integration.etcdImage])
        let setup = try #require(await PodmanNetworkSetup.read(system, environment: ProcessInfo.processInfo.environment),
                                 "podman info did not answer")
        try #require(setup.backend == "cni", "this test breaks the CNI backend; Podman here uses \(setup.backend)")
        let plugin = try #require(setup.dnsHelper, "Podman here has no dnsname plugin already: run scripts/setup")
        let plugins = URL(fileURLWithPath: plugin).deletingLastPathComponent()

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-nodns-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("cni")
        // The plugins' contents only: an ordinary user (the rootless job) may not copy root's ownership.
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: plugins.path) where name != "dnsname" {
            let data = try Data(contentsOf: plugins.appendingPathComponent(name))
            try #require(FileManager.default.createFile(atPath: copy.appendingPathComponent(name).path, contents: data,
                                                        attributes: [.posixPermissions: 0o755]))
        }
        let systemConf = (try? String(contentsOfFile: "/etc/containers/containers.conf", encoding: .utf8)) ?? ""
        let conf = folder.appendingPathComponent("containers.conf")
        try Self.withPluginDirectory(systemConf, copy.path).write(to: conf, atomically: true, encoding: .utf8)
        let broken = CLIContainerRuntime(engine: .podman, environment: ["CONTAINERS_CONF": conf.path])

        let output = try await Self.doctor(["--probe-image", Integration.etcdImage],
                                           environment: ["CCM_LUA_RUNTIME": "podman", "CONTAINERS_CONF": conf.path])
        let left = try await Self.removeLeftovers(broken)
        let text = output.stdoutText
        #expect(output.code != 0, "doctor passed a Podman without dnsname:\n\(text)")
        let section = text.components(separatedBy: "\npodman:\n").last ?? ""
        #expect(section.contains("FAILED"), "\(text)")
        #expect(section.contains("cause: Podman's CNI backend has no DNS plugin (no `dnsname` in \(copy.path))"), "\(text)")
        #expect(section.contains("fix: install golang-github-containernetworking-plugin-dnsname"), "\(text)")
        #expect(section.contains("aardvark-dns"), "\(text)")
        #expect(left.isEmpty, "left behind by doctor: \(left)")
    }

    /// `conf` with `cni_plugin_dirs` set to `directory` in its [network] table.
    static func withPluginDirectory(_ conf: String, _ directory: String) -> String {
        let setting = "cni_plugin_dirs = [\"\(directory)\"]"
        var lines = conf.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("cni_plugin_dirs") }
        if let table = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "[network]" }) {
            lines.insert(setting, at: table + 1)
        } else {
            lines += ["[network]", "network_backend = \"cni\"", setting]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
