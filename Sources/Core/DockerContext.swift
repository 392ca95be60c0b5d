import Foundation

/// A Docker context as the `docker` client stores it, read from its files (no client call, no
/// engine call): which one is in use and the engine address it names.
///
/// The client keeps the current context in `$DOCKER_CONFIG/config.json` (`currentContext`, set by
/// `docker context use`), overridden by `DOCKER_CONTEXT`; each context's endpoint is in
/// `$DOCKER_CONFIG/contexts/meta/<digest of the name>/meta.json`, and its TLS files, when it has
/// any, in `contexts/tls/<same digest>/docker/`. `DOCKER_CONFIG` defaults to `~/.docker`.
public struct DockerContext: Sendable, Equatable {
    public var name: String
    /// The engine address (`unix://`, `tcp://`, `ssh://`); nil when the context was not found.
    public var host: String?
    /// The context carries a CA, certificate and key for its engine, and does not skip verification.
    public var verifiesTLS: Bool

    /// The context the client uses, when it is not "default" (which means DOCKER_HOST or the local
    /// socket). DOCKER_HOST wins over any context, as it does for the client.
    public static func current(environment: [String: String]) -> DockerContext? {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard value("DOCKER_HOST") == nil else { return nil }
        let config = configFolder(environment)
        guard let name = value("DOCKER_CONTEXT") ?? currentName(config: config), name != "default" else { return nil }
        return read(name, config: config)
    }

    static func configFolder(_ environment: [String: String]) -> URL {
        if let folder = environment["DOCKER_CONFIG"], !folder.isEmpty { return URL(fileURLWithPath: folder) }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".docker")
    }

    static func currentName(config: URL) -> String? {
        guard let data = try? Data(contentsOf: config.appendingPathComponent("config.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let name = object["currentContext"] as? String, !name.isEmpty else { return nil }
        return name
    }

    /// Finds the context by the name inside each meta.json (the folder names are digests of it).
    static func read(_ name: String, config: URL) -> DockerContext {
        let meta = config.appendingPathComponent("contexts/meta")
        for digest in (try? FileManager.default.contentsOfDirectory(atPath: meta.path)) ?? [] {
            guard let data = try? Data(contentsOf: meta.appendingPathComponent(digest).appendingPathComponent("meta.json")),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  object["Name"] as? String == name else { continue }
            let docker = (object["Endpoints"] as? [String: Any])?["docker"] as? [String: Any]
            let skipVerify = docker?["SkipTLSVerify"] as? Bool ?? false
            let tls = config.appendingPathComponent("contexts/tls/\(digest)/docker")
            let hasFiles = ["ca.pem", "cert.pem", "key.pem"].allSatisfy {
                FileManager.default.fileExists(atPath: tls.appendingPathComponent($0).path)
            }
            return DockerContext(name: name, host: docker?["Host"] as? String, verifiesTLS: hasFiles && !skipVerify)
        }
        return DockerContext(name: name, host: nil, verifiesTLS: false)
    }
}
