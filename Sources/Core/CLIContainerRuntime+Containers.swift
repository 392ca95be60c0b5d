/// Container lifecycle over the client: create, start, stop, kill, pause, restart, remove, inspect, list.
extension CLIContainerRuntime {
    public func createContainer(_ spec: ContainerSpec) async throws -> String {
        let image = try await localImageName(spec.image)
        let output = try await run(arguments.createContainer(spec, image: image), subject: .container(spec.name))
        // The id is the last line: Docker may print pull or platform warnings before it.
        return output.stdoutText.split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
    }

    public func start(_ container: ContainerRef) async throws {
        try await run(arguments.start(container), subject: .start(container))
    }

    /// Podman: one `start a b c` (it starts them in that order), since each Podman call costs about
    /// 0.2 s of start-up and locking. Docker: one call each, which costs little and leaves the
    /// containers' starts a moment apart, as separate calls do (measured with bench/cluster-start:
    /// `docker start a b c` made a 3-node etcd cluster ready 1.7 s later, its nodes coming up
    /// together and probing peers that did not answer yet).
    public func start(inOrder containers: [ContainerRef]) async throws {
        guard let first = containers.first else { return }
        guard engine == .podman, containers.count > 1 else {
            for container in containers { try await start(container) }
            return
        }
        try await run(arguments.start(inOrder: containers), subject: .start(first))
    }

    public func stop(_ container: ContainerRef, timeout: Double) async throws {
        try await run(arguments.stop(container, timeout: timeout), subject: .container(container))
    }

    public func kill(_ container: ContainerRef, signal: String) async throws {
        try await run(arguments.kill(container, signal: signal), subject: .container(container))
    }

    public func pause(_ container: ContainerRef) async throws {
        try await run(arguments.pause(container), subject: .container(container))
    }

    public func unpause(_ container: ContainerRef) async throws {
        try await run(arguments.unpause(container), subject: .container(container))
    }

    public func restart(_ container: ContainerRef, timeout: Double) async throws {
        try await run(arguments.restart(container, timeout: timeout), subject: .start(container))
    }

    public func remove(_ container: ContainerRef) async throws {
        do {
            try await run(arguments.remove(container), subject: .container(container))
        } catch let error as RuntimeError where error.kind == .containerNotFound {
            return
        }
    }

    /// One `rm` for all of them (the engines carry on past a missing one and still exit 0 with `-f`).
    public func remove(all containers: [ContainerRef]) async throws {
        guard !containers.isEmpty else { return }
        do {
            try await run(arguments.remove(all: containers), subject: .container(containers[0]))
        } catch let error as RuntimeError where error.kind == .containerNotFound {
            // Some were gone already: make sure of the others one by one.
            for container in containers { try await remove(container) }
        }
    }

    public func inspect(_ container: ContainerRef) async throws -> ContainerInfo {
        let output = try await run(arguments.inspectContainer(container), subject: .container(container))
        return try CLIOutput.containerInfo(output.stdout)
    }

    /// One `container inspect a b c` (a missing one fails the call, as inspecting it alone would).
    public func inspect(all containers: [ContainerRef]) async throws -> [ContainerInfo] {
        guard let first = containers.first else { return [] }
        let output = try await run(arguments.inspectContainers(containers), subject: .container(first))
        return try CLIOutput.containerInfos(output.stdout)
    }

    public func listContainers(labels: [String: String]) async throws -> [ContainerSummary] {
        let output = try await run(arguments.listContainers(labels: labels), subject: .engine)
        return try CLIOutput.containerList(output.stdout)
    }
}
