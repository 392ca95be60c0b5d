import Testing
import Core

/// Who owns a node's mounted folders: `owner` first, else a numeric `user`, else nobody.
@Suite struct FolderOwnerTests {
    func plan(user: String? = nil, owner: String? = nil) -> NodePlan {
        var plan = NodePlan(image: "img")
        plan.user = user
        plan.owner = owner
        return plan
    }

    @Test func ownerWinsThenANumericUserThenNobody() throws {
        #expect(try FolderOwner.of(plan(user: "1001:1001", owner: "999:998"), node: "n") == FolderOwner(uid: 999, gid: 998))
        #expect(try FolderOwner.of(plan(user: "1001:1002"), node: "n") == FolderOwner(uid: 1001, gid: 1002))
        #expect(try FolderOwner.of(plan(user: "1001"), node: "n") == FolderOwner(uid: 1001, gid: 1001))
        // A name lives in the image's /etc/passwd: it cannot be resolved here.
        #expect(try FolderOwner.of(plan(user: "postgres"), node: "n") == nil)
        #expect(try FolderOwner.of(plan(), node: "n") == nil)
    }

    @Test func withoutOwnerOrUserTheImagesNumericUserOwnsThem() throws {
        #expect(try FolderOwner.of(plan(), node: "n", imageUser: "1001") == FolderOwner(uid: 1001, gid: 1001))
        #expect(try FolderOwner.of(plan(), node: "n", imageUser: "1000:1000") == FolderOwner(uid: 1000, gid: 1000))
        #expect(try FolderOwner.of(plan(), node: "n", imageUser: "postgres") == nil)
        #expect(try FolderOwner.of(plan(), node: "n", imageUser: "0") == nil)
        // The plan's user decides who runs, so the image's does not count then.
        #expect(try FolderOwner.of(plan(user: "postgres"), node: "n", imageUser: "1001") == nil)
        #expect(try FolderOwner.of(plan(owner: "5"), node: "n", imageUser: "1001") == FolderOwner(uid: 5, gid: 5))
    }

    /// Both engines print `"User": ""` for an image without USER: that is root, no owner.
    @Test(arguments: Engine.allCases)
    func anImageWithoutUserRunsAsRoot(engine: Engine) throws {
        let image = try CLIOutput.image(Fixtures.bytes(engine, "image-inspect.json"))
        #expect(image.user == nil)
        #expect(try FolderOwner.of(plan(), node: "n", imageUser: image.user) == nil)
    }

    /// A rootless engine maps a container's uids to other host uids (0 to the user itself, the
    /// rest to its sub-uids): a chown on the host means another owner there, and one to the user's
    /// own uid even succeeds. Only a container sees the uids as the node will.
    @Test func aRootlessEnginesFoldersAreGivenFromInsideAContainer() {
        #expect(FolderOwner.givenOnHost(location: .localRootful))
        #expect(FolderOwner.givenOnHost(location: EngineLocation(isRootless: true)) == false)
    }

    @Test func anOwnerThatIsNotNumericIsAConfigError() {
        do {
            _ = try FolderOwner.of(plan(owner: "postgres"), node: "node1")
            Issue.record("expected an error")
        } catch let error as ClusterError {
            #expect(error.kind == .config)
            #expect(error.message.contains("node1's owner 'postgres' must be numeric"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
