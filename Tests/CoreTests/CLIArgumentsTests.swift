import Testing
import Core

/// The command lines handed to each engine.
@Suite struct CLIArgumentsTests {
    @Test(arguments: Engine.allCases)
    func createWithEverything(engine: Engine) {
        var spec = ContainerSpec(name: "c1-n1", image: "ccm-lua-test/etcd:3.4")
        spec.labels = ["ccm-lua.node": "n1", "ccm-lua.cluster": "c1"]
        spec.env = ["B": "2", "A": "1 2"]
        spec.command = ["--name", "n1"]
        spec.entrypoint = ["etcd", "--debug"]
        spec.mounts = [Mount(hostPath: "/tmp/conf", containerPath: "/etc/etcd", readOnly: true),
                       Mount(hostPath: "data-vol", containerPath: "/var/lib/etcd")]
        spec.network = "c1-net"
        spec.networkAliases = ["n1", "node1"]
        spec.hostname = "n1"
        spec.capAdd = ["NET_ADMIN"]
        spec.cpus = 1.5
        spec.memory = "512m"
        spec.ports = [PortMapping(containerPort: 2379), PortMapping(hostPort: 12380, containerPort: 2380, proto: "udp", hostIP: "0.0.0.0")]
        spec.user = "1000:1000"
        spec.workdir = "/work"
        let args = CLIArguments(engine: engine).createContainer(spec, image: "IMAGE")
        #expect(args == [
            "create", "--pull", "never", "--name", "c1-n1",
            "--label", "ccm-lua.cluster=c1", "--label", "ccm-lua.node=n1",
            "-e", "A=1 2", "-e", "B=2",
            "--entrypoint", "etcd",
            "-v", "/tmp/conf:/etc/etcd:ro", "-v", "data-vol:/var/lib/etcd",
            "--network", "c1-net", "--network-alias", "n1", "--network-alias", "node1",
            "--hostname", "n1", "--cap-add", "NET_ADMIN", "--cpus", "1.5", "--memory", "512m",
            "-p", "127.0.0.1::2379/tcp", "-p", "0.0.0.0:12380:2380/udp",
            "--user", "1000:1000", "--workdir", "/work",
            "IMAGE", "--debug", "--name", "n1",
        ])
    }

    @Test func createMinimalKeepsImageCommand() {
        let args = CLIArguments(engine: .docker).createContainer(ContainerSpec(name: "x", image: "i"), image: "i")
        #expect(args == ["create", "--pull", "never", "--name", "x", "i"])
        var cleared = ContainerSpec(name: "x", image: "i")
        cleared.entrypoint = []
        cleared.cpus = 2
        #expect(CLIArguments(engine: .docker).createContainer(cleared, image: "i") ==
                ["create", "--pull", "never", "--name", "x", "--entrypoint", "", "--cpus", "2", "i"])
    }

    /// Podman's `rm -f` waits 10 s for a graceful stop unless told `-t 0`.
    @Test func removeKillsAtOnceOnBothEngines() {
        #expect(CLIArguments(engine: .docker).remove("n1") == ["rm", "-f", "-v", "n1"])
        #expect(CLIArguments(engine: .podman).remove("n1") == ["rm", "-f", "-v", "-t", "0", "n1"])
        #expect(CLIArguments(engine: .podman).remove(all: ["n1", "n2"]) == ["rm", "-f", "-v", "-t", "0", "n1", "n2"])
    }

    @Test(arguments: Engine.allCases)
    func lifecycle(engine: Engine) {
        let a = CLIArguments(engine: engine)
        #expect(a.start("n1") == ["start", "n1"])
        #expect(a.stop("n1", timeout: 2.2) == ["stop", "-t", "3", "n1"])
        #expect(a.stop("n1", timeout: 0) == ["stop", "-t", "0", "n1"])
        #expect(a.restart("n1", timeout: 1) == ["restart", "-t", "1", "n1"])
        #expect(a.kill("n1", signal: "KILL") == ["kill", "-s", "KILL", "n1"])
        #expect(a.pause("n1") == ["pause", "n1"])
        #expect(a.unpause("n1") == ["unpause", "n1"])
        #expect(a.inspectContainer("n1") == ["container", "inspect", "n1"])
        #expect(a.listContainers(labels: ["ccm-lua.run": "r1", "ccm-lua.cluster": ""]) ==
                ["ps", "-a", "--no-trunc", "--filter", "label=ccm-lua.cluster", "--filter", "label=ccm-lua.run=r1", "--format", "json"])
    }

    @Test(arguments: Engine.allCases)
    func exec(engine: Engine) {
        let a = CLIArguments(engine: engine)
        #expect(a.exec("n1", ExecRequest(argv: ["true"])) == ["exec", "n1", "true"])
        var request = ExecRequest(argv: ["sh", "-c", "cat"])
        request.env = ["X": "1"]
        request.user = "root"
        request.workdir = "/tmp"
        request.stdin = [65]
        #expect(a.exec("n1", request, marker: "m1") ==
                ["exec", "-i", "-e", "CCM_LUA_EXEC_ID=m1", "-e", "X=1", "-u", "root", "-w", "/tmp", "n1", "sh", "-c", "cat"])
        let kill = a.killMarked("n1", marker: "m1")
        #expect(kill.prefix(4) == ["exec", "n1", "sh", "-c"])
        #expect(kill.last == "CCM_LUA_EXEC_ID=m1")
    }

    @Test(arguments: Engine.allCases)
    func networksVolumesFilesLogs(engine: Engine) {
        let a = CLIArguments(engine: engine)
        #expect(a.createNetwork(NetworkSpec(name: "net", labels: ["ccm-lua.cluster": "c"], subnet: "10.1.0.0/24")) ==
                ["network", "create", "--label", "ccm-lua.cluster=c", "--subnet", "10.1.0.0/24", "net"])
        #expect(a.connect(network: "net", container: "n1", aliases: ["a", "b"]) ==
                ["network", "connect", "--alias", "a", "--alias", "b", "net", "n1"])
        #expect(a.disconnect(network: "net", container: "n1") == ["network", "disconnect", "net", "n1"])
        #expect(a.removeNetwork("net") == ["network", "rm", "net"])
        #expect(a.listNetworks(labels: ["ccm-lua.cluster": "c"]) ==
                ["network", "ls", "--filter", "label=ccm-lua.cluster=c", "--format", "json"])
        #expect(a.createVolume(VolumeSpec(name: "v", labels: ["ccm-lua.run": "r"])) == ["volume", "create", "--label", "ccm-lua.run=r", "v"])
        #expect(a.listVolumes(labels: ["ccm-lua.run": "r"]) == ["volume", "ls", "--filter", "label=ccm-lua.run=r", "--format", "json"])
        #expect(a.copy(from: "/tmp/f", to: "n1:/etc/f") == ["cp", "/tmp/f", "n1:/etc/f"])
        #expect(a.logs("n1", since: nil, follow: false) == ["logs", "--timestamps", "n1"])
        #expect(a.logs("n1", since: "2026-01-01T00:00:00.5Z", follow: true) ==
                ["logs", "--timestamps", "--since", "2026-01-01T00:00:00.5Z", "--follow", "n1"])
    }

    @Test func imagesPerEngine() {
        #expect(CLIArguments(engine: .podman).pullImage("etcd:3.4") == ["pull", "docker.io/library/etcd:3.4"])
        #expect(CLIArguments(engine: .podman).pullImage("scylladb/scylla:6.2") == ["pull", "docker.io/scylladb/scylla:6.2"])
        #expect(CLIArguments(engine: .docker).pullImage("scylladb/scylla:6.2") == ["pull", "scylladb/scylla:6.2"])
        #expect(CLIArguments(engine: .docker).buildImage(ImageBuild(contextDirectory: "ctx", dockerfile: "D", tag: "localhost/x:1",
                                                                    buildArgs: ["B": "2", "A": "1"])) ==
                ["build", "-t", "x:1", "-f", "D", "--build-arg", "A=1", "--build-arg", "B=2", "ctx"])
        #expect(CLIArguments(engine: .podman).buildImage(ImageBuild(contextDirectory: "ctx", tag: "x:1")) == ["build", "-t", "x:1", "ctx"])
    }

    @Test func commandLineCarriesGlobalArguments() {
        let runtime = CLIContainerRuntime(engine: .podman, executable: "/usr/bin/podman", globalArguments: ["--remote", "--url", "unix:///x.sock"])
        #expect(runtime.commandLine(["ps"]) == ["/usr/bin/podman", "--remote", "--url", "unix:///x.sock", "ps"])
    }
}

@Suite struct ImageReferenceTests {
    @Test func qualification() {
        #expect(!ImageReference.isQualified("etcd:3.4"))
        #expect(!ImageReference.isQualified("ccm-lua-test/etcd:3.4"))
        #expect(ImageReference.isQualified("localhost/ccm-lua-test/etcd:3.4"))
        #expect(ImageReference.isQualified("docker.io/library/etcd"))
        #expect(ImageReference.isQualified("registry:5000/etcd"))
        #expect(ImageReference.dockerHub("etcd:3.4") == "docker.io/library/etcd:3.4")
        #expect(ImageReference.dockerHub("scylladb/scylla") == "docker.io/scylladb/scylla")
        #expect(ImageReference.dockerHub("quay.io/x/y") == "quay.io/x/y")
    }

    @Test func localSpellings() {
        #expect(ImageReference.localCandidates("ccm-lua-test/etcd:3.4", engine: .podman) ==
                ["localhost/ccm-lua-test/etcd:3.4", "docker.io/ccm-lua-test/etcd:3.4"])
        #expect(ImageReference.localCandidates("localhost/ccm-lua-test/etcd:3.4", engine: .podman) == ["localhost/ccm-lua-test/etcd:3.4"])
        #expect(ImageReference.localCandidates("localhost/ccm-lua-test/etcd:3.4", engine: .docker) == ["ccm-lua-test/etcd:3.4"])
        #expect(ImageReference.localCandidates("localhost:5000/etcd", engine: .docker) == ["localhost:5000/etcd"])
        #expect(ImageReference.localCandidates("sha256:65ac3a22dedc", engine: .podman) == ["sha256:65ac3a22dedc"])
    }
}
