import Core
import Testing

/// Docker's short forms for volumes and ports, as `docker run -v` and `-p` take them.
@Suite struct ContainerSyntaxTests {
    @Test(arguments: [
        ("/data:/var/lib/app", Mount(hostPath: "/data", containerPath: "/var/lib/app")),
        ("/etc/app.conf:/etc/app.conf:ro", Mount(hostPath: "/etc/app.conf", containerPath: "/etc/app.conf", readOnly: true)),
        ("/data:/data:rw", Mount(hostPath: "/data", containerPath: "/data")),
        ("named:/data", Mount(hostPath: "named", containerPath: "/data")),
    ])
    func mounts(text: String, expected: Mount) {
        #expect(Mount(parsing: text) == expected)
    }

    @Test(arguments: ["/data", "", ":/data", "/a:/b:rx", "/a:/b:ro:z", "/a:relative"])
    func notMounts(text: String) {
        #expect(Mount(parsing: text) == nil)
    }

    @Test(arguments: [
        ("9042", PortMapping(containerPort: 9042)),
        ("7000:7000", PortMapping(hostPort: 7000, containerPort: 7000)),
        ("8080:80/udp", PortMapping(hostPort: 8080, containerPort: 80, proto: "udp")),
        ("127.0.0.1::2379", PortMapping(containerPort: 2379, hostIP: "127.0.0.1")),
        ("0.0.0.0:9042:9042", PortMapping(hostPort: 9042, containerPort: 9042, hostIP: "0.0.0.0")),
        ("53/udp", PortMapping(containerPort: 53, proto: "udp")),
        ("5000/sctp", PortMapping(containerPort: 5000, proto: "sctp")),
    ])
    func ports(text: String, expected: PortMapping) {
        #expect(PortMapping(parsing: text) == expected)
    }

    @Test(arguments: ["", "http", "80:http", "0", "70000", "80/icmp", "1:2:3:4", ":80", "::80", "80:"])
    func notPorts(text: String) {
        #expect(PortMapping(parsing: text) == nil)
    }

    @Test func aStringCommandRunsThroughTheShell() {
        #expect(ShellCommand.argv("echo a && echo b") == ["sh", "-c", "echo a && echo b"])
    }
}
