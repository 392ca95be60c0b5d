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
