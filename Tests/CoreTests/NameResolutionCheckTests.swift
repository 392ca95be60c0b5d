import Foundation
import Testing
import Core
import CoreTesting

/// The name-resolution check's decisions and its cleanup, on the fake runtime (the real engines
/// are in IntegrationTests.DoctorTests).
@Suite struct NameResolutionCheckTests {
    static let image = "ccm-lua-test/etcd:3.4"
    static let server = "ccm-lua-doctor-\(Labels.runID)-docker-server"

    /// Prints etcd's ready line in the server once the check has started it; returns the
    /// server's network aliases.
    static func serverBecomesReady(_ fake: FakeContainerRuntime) -> Task<[String], Never> {
        Task {
            let deadline = ContinuousClock.now + .seconds(10)
            while fake.container(server)?.state != .running, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(1))
            }
            let aliases = fake.container(server)?.spec.networkAliases ?? []
            fake.emitLog(server, "etcdserver: ready to serve client requests")
            return aliases
        }
    }

    @Test func passesWhenTheAliasAnswersAndLeavesNothing() async throws {
        let fake = FakeContainerRuntime(images: [Self.image])
        let ready = Self.serverBecomesReady(fake)
        let outcome = await NameResolutionCheck(runtime: fake, image: Self.image, environment: [:], timeout: 10).run()
        #expect(await ready.value == ["probe-server"])
        #expect(outcome.ok, "\(outcome.text)")
        let probe = try #require(fake.calls("exec").first)
        #expect(probe.arguments.contains("http://probe-server:2379"))
        #expect(fake.containerNames.isEmpty && fake.networkNames.isEmpty)
    }

    @Test func reachableByAddressButNotByNameNamesDNSAsTheCause() async throws {
        let fake = FakeContainerRuntime(images: [Self.image])
        fake.scriptExec(["etcdctl", "--endpoints", "http://probe-server:2379"],
                        .result(code: 1, stderr: "Error: unhealthy cluster"))
        let ready = Self.serverBecomesReady(fake)
        let outcome = await NameResolutionCheck(runtime: fake, image: Self.image, environment: [:], timeout: 10).run()
        _ = await ready.value
        #expect(!outcome.ok)
        #expect(outcome.summary.contains("by its address, but not by its name"), "\(outcome.text)")
        #expect(outcome.cause?.contains("embedded DNS") == true, "\(outcome.text)")
        #expect(outcome.text.contains("FAILED") && outcome.text.contains("probe said: Error: unhealthy cluster"))
        #expect(fake.calls("exec").count == 2)
        #expect(fake.containerNames.isEmpty && fake.networkNames.isEmpty)
    }

    @Test func aServerThatNeverGetsReadyEndsAtTheLimitAndLeavesNothing() async throws {
        let fake = FakeContainerRuntime(images: [Self.image])
        let started = ContinuousClock.now
        let outcome = await NameResolutionCheck(runtime: fake, image: Self.image, environment: [:], timeout: 0.5).run()
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(!outcome.ok && !outcome.ran)
        #expect(outcome.summary.contains("did not log \"ready to serve client requests\""), "\(outcome.text)")
        #expect(outcome.fix?.contains("--probe-image") == true)
        #expect(fake.containerNames.isEmpty && fake.networkNames.isEmpty)
    }

    @Test func aFailureHalfWayStillRemovesWhatWasCreated() async throws {
        let fake = FakeContainerRuntime(images: [Self.image])
        fake.failNext("start", with: .startFailed)
        let outcome = await NameResolutionCheck(runtime: fake, image: Self.image, environment: [:], timeout: 5).run()
        #expect(!outcome.ok)
        #expect(outcome.summary.hasPrefix("The check could not run:"), "\(outcome.text)")
        #expect(!outcome.ran && outcome.text.contains("COULD NOT CHECK"))
        #expect(fake.containerNames.isEmpty && fake.networkNames.isEmpty)
        #expect(outcome.leftovers.isEmpty)
    }

    @Test func aPodmanWithoutItsDNSPieceSaysWhatToInstall() {
        let cni = PodmanNetworkSetup(backend: "cni", searched: ["/usr/lib/cni"], dnsHelper: nil)
        #expect(cni.problem?.cause == "Podman's CNI backend has no DNS plugin (no `dnsname` in /usr/lib/cni).")
        #expect(cni.problem?.fix.contains("golang-github-containernetworking-plugin-dnsname") == true)
        #expect(cni.problem?.fix.contains("podman-plugins") == true)
        let netavark = PodmanNetworkSetup(backend: "netavark", searched: ["/usr/libexec/podman"], dnsHelper: nil)
        #expect(netavark.problem?.cause.contains("aardvark-dns") == true)
        #expect(PodmanNetworkSetup(backend: "cni", searched: ["/usr/lib/cni"], dnsHelper: "/usr/lib/cni/dnsname").problem == nil)
    }

    @Test func aServerThatStopsSaysSoAtOnceWithItsLastLines() async throws {
        let fake = FakeContainerRuntime(images: [Self.image])
        let stopped = Task {
            let deadline = ContinuousClock.now + .seconds(10)
            while fake.container(Self.server)?.state != .running, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(1))
            }
            fake.emitLog(Self.server, "etcdmain: cannot access data directory: permission denied")
            fake.exitContainer(Self.server, code: 1)
        }
        let started = ContinuousClock.now
        let outcome = await NameResolutionCheck(runtime: fake, image: Self.image, environment: [:], timeout: 30).run()
        await stopped.value
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(!outcome.ok && !outcome.ran)
        #expect(outcome.summary.contains("stopped before it was ready"), "\(outcome.text)")
        #expect(outcome.text.contains("probe said: etcdmain: cannot access data directory"), "\(outcome.text)")
        #expect(fake.containerNames.isEmpty && fake.networkNames.isEmpty)
    }
}
