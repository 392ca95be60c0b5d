/// Image names as each engine wants them.
///
/// Docker resolves short names (`etcd:3.4`, `scylladb/scylla:6.2`) against Docker Hub and names the
/// images it builds without a registry. Podman qualifies everything: images it builds or loads are
/// `localhost/NAME`, pulled ones `docker.io/...`, and it refuses to pull a short name unless the
/// machine's registries.conf lists search registries. So that one script works on both engines,
/// ccm-lua accepts either spelling and rewrites it here.
public enum ImageReference {
    /// Whether `reference` names its registry (`docker.io/x`, `localhost/x`, `host:5000/x`).
    /// Docker's rule: the first path component is a registry when it contains `.` or `:`, or is
    /// `localhost`.
    public static func isQualified(_ reference: String) -> Bool {
        guard let slash = reference.firstIndex(of: "/") else { return false }
        let first = reference[..<slash]
        return first == "localhost" || first.contains(".") || first.contains(":")
    }

    /// The name of an image on Docker Hub: `docker.io/library/NAME` for official images (no
    /// slash), `docker.io/ORG/NAME` otherwise; qualified names are returned unchanged.
    public static func dockerHub(_ reference: String) -> String {
        if isQualified(reference) { return reference }
        return reference.contains("/") ? "docker.io/" + reference : "docker.io/library/" + reference
    }

    /// The name to pass to `pull`: Podman gets a fully qualified name (Docker Hub for short names);
    /// Docker gets the name as written, without a `localhost/` prefix that Docker would take for a
    /// registry.
    public static func forPull(_ reference: String, engine: Engine) -> String {
        switch engine {
        case .docker: return strippingLocalhost(reference)
        case .podman: return dockerHub(reference)
        }
    }

    /// The candidates to look for among local images, best first. Podman: `localhost/NAME` (built
    /// or loaded here) before the Docker Hub name (pulled). Docker: the name without `localhost/`.
    public static func localCandidates(_ reference: String, engine: Engine) -> [String] {
        switch engine {
        case .docker:
            return [strippingLocalhost(reference)]
        case .podman:
            if isQualified(reference) || isDigestOrID(reference) { return [reference] }
            return ["localhost/" + reference, dockerHub(reference)]
        }
    }

    /// `localhost/x` is how Podman names a local image; Docker would read `localhost` as a registry.
    public static func strippingLocalhost(_ reference: String) -> String {
        reference.hasPrefix("localhost/") ? String(reference.dropFirst("localhost/".count)) : reference
    }

    /// An image id (`sha256:...` or a bare hex id of 12+ digits) rather than a name.
    public static func isDigestOrID(_ reference: String) -> Bool {
        if reference.hasPrefix("sha256:") { return true }
        return reference.count >= 12 && reference.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
