/// Removes everything ccm-lua created that matches a label set: containers first (a network or
/// volume in use cannot be removed), then networks, then volumes.
///
/// It only ever selects by label, and refuses a label set that does not name one of ccm-lua's own
/// keys, so it cannot touch a resource some other tool created.
public enum ResourceCleanup {
    public struct Report: Sendable, Equatable {
        public var containers: [String] = []
        public var networks: [String] = []
        public var volumes: [String] = []
        /// Resources that could not be removed, with the reason.
        public var failures: [String] = []
        public var isEmpty: Bool { containers.isEmpty && networks.isEmpty && volumes.isEmpty && failures.isEmpty }
        public init() {}
    }

    /// How many removals run at once: Podman's `rm` takes about 1.5 s each, mostly waiting.
    static let parallelRemovals = 4

    /// Removes every container, network and volume carrying all of `labels` (an empty value
    /// matches any value: `[Labels.cluster: ""]` is everything ccm-lua made). Keeps going past
    /// individual failures and reports them; throws only when nothing can be listed.
    @discardableResult
    public static func removeAll(matching labels: [String: String], in runtime: any ContainerRuntime) async throws -> Report {
        guard Labels.selectsOnlyOurs(labels) else {
            throw RuntimeError(.invalidArgument, engine: runtime.engine,
                               summary: "Refusing to clean up by labels \(labels.sorted(by: { $0.key < $1.key })): they do not name a ccm-lua label.",
                               hint: "Select with at least one of \(Labels.ownKeys.sorted().joined(separator: ", ")).")
        }
        var report = Report()
        // Double-check each container's labels: the engine's filter decides, but a mistake here
        // would remove someone else's container.
        let containers = try await runtime.listContainers(labels: labels).filter { summary in
            labels.allSatisfy { key, value in summary.labels[key].map { value.isEmpty || $0 == value } ?? false }
        }
        let removed = await forEach(containers.map(\.name)) { try await runtime.remove($0) }
        report.containers = removed.done
        report.failures += removed.failed

        for network in try await runtime.listNetworks(labels: labels) {
            do { try await runtime.removeNetwork(network); report.networks.append(network) }
            catch { report.failures.append("network \(network): \(error)") }
        }
        for volume in try await runtime.listVolumes(labels: labels) {
            do { try await runtime.removeVolume(volume); report.volumes.append(volume) }
            catch { report.failures.append("volume \(volume): \(error)") }
        }
        return report
    }

    /// Runs `body` for each name, `parallelRemovals` at a time.
    static func forEach(_ names: [String], _ body: @escaping @Sendable (String) async throws -> Void) async -> (done: [String], failed: [String]) {
        await withTaskGroup(of: (String, String?).self) { group in
            var done: [String] = [], failed: [String] = []
            var pending = names[...]
            func collect(_ result: (String, String?)) {
                if let problem = result.1 { failed.append("container \(result.0): \(problem)") } else { done.append(result.0) }
            }
            for _ in 0..<parallelRemovals {
                guard let name = pending.popFirst() else { break }
                group.addTask { do { try await body(name); return (name, nil) } catch { return (name, "\(error)") } }
            }
            while let result = await group.next() {
                collect(result)
                if let name = pending.popFirst() {
                    group.addTask { do { try await body(name); return (name, nil) } catch { return (name, "\(error)") } }
                }
            }
            return (done.sorted(), failed)
        }
    }
}
