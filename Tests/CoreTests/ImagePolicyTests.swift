import Core
import CoreTesting
import Foundation
import Testing

/// The image-first rule, and what the engines print about images read into `ImageInfo`.
@Suite struct ImagePolicyTests {
    @Test(arguments: Engine.allCases)
    func inspectReadsCreatedSizeAndLabelsOfBothShapes(engine: Engine) throws {
        let image = try CLIOutput.image(Fixtures.bytes(engine, "image-inspect.json"))
        #expect(image.created == "2026-11-21T20:15:46.38549738Z")
        #expect(image.size == (engine == .docker ? 198_900_084 : 203_798_268))
        #expect(image.labels == ["ccm-lua.recipe": "381778dcb63b144b"], "Docker keeps labels under Config only")
    }

    @Test func buildTakesTargetAndLabelsListIsFilteredByLabel() {
        var build = ImageBuild(contextDirectory: "ctx", tag: "x:1")
        build.target = "final"
        build.labels = ["ccm-lua.built": "1", "a": "b"]
        #expect(CLIArguments(engine: .podman).buildImage(build) ==
                ["build", "-t", "x:1", "--target", "final", "--label", "a=b", "--label", "ccm-lua.built=1", "ctx"])
        #expect(CLIArguments(engine: .docker).listImages(labels: ["ccm-lua.built": ""]) ==
                ["images", "-q", "--no-trunc", "--filter", "label=ccm-lua.built"])
        #expect(CLIArguments(engine: .docker).removeImage("x:1") == ["rmi", "x:1"])
    }

    @Test func theEnvironmentSetsTheDefaultAndUnknownNamesAreUsageErrors() throws {
        #expect(PullPolicy.fromEnvironment([:]) == .missing)
        #expect(PullPolicy.fromEnvironment(["CCM_LUA_PULL": "NEVER"]) == .never)
        #expect(PullPolicy.fromEnvironment(["CCM_LUA_PULL": "always"]) == .always)
        #expect(try PullPolicy.named("Always") == .always)
        #expect(throws: ClusterError.self) { try PullPolicy.named("sometimes") }
        do { _ = try PullPolicy.named("sometimes", what: "spec.pull") } catch {
            #expect("\(error)".contains("spec.pull must be \"missing\", \"always\" or \"never\" (got \"sometimes\")"), "\(error)")
        }
    }

    @Test func alwaysPullsAPresentImageMissingPullsOnlyAnAbsentOneNeverPullsNone() async throws {
        let fake = FakeContainerRuntime(images: ["etcd:3.4"])
        let present = try await ImagePolicy.ensure("etcd:3.4", policy: .missing, runtime: fake)
        #expect(fake.calls("pullImage").isEmpty)
        #expect(present.id == (try await fake.inspectImage("etcd:3.4")).id)
        _ = try await ImagePolicy.ensure("etcd:3.4", policy: .always, runtime: fake)
        #expect(fake.calls("pullImage").map(\.arguments) == [["etcd:3.4"]])
        _ = try await ImagePolicy.ensure("other:1", policy: .missing, runtime: fake)
        #expect(fake.calls("pullImage").count == 2)
        do {
            _ = try await ImagePolicy.ensure("absent:1", policy: .never, runtime: fake)
            Issue.record("a missing image with pulling off must fail")
        } catch let error as RuntimeError {
            #expect(error.kind == .imageNotFound)
            #expect(error.summary == "image 'absent:1' is not on this machine (pulling is off: pull = \"never\")")
            #expect(error.hint?.contains("ccm-lua image build") == true)
        }
        #expect(fake.calls("pullImage").count == 2)
    }

    @Test func defaultTagsAndLogFilesNameTheBuild() throws {
        #expect(ImageBuilds.defaultTag(context: URL(fileURLWithPath: "/tmp/My Etcd/")) == "ccm-lua-build/my-etcd:latest")
        #expect(ImageBuilds.defaultTag(context: URL(fileURLWithPath: "/")) == "ccm-lua-build/image:latest")
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-img-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let log = try ImageBuilds.logFile(store: StateStore(home: home), tag: "a/b:1", now: Date(timeIntervalSince1970: 2))
        #expect(log.path == home.path + "/images/build-a_b_1-2000.log")
    }
}
