import Foundation
import Testing
import Core

/// `scripts/rehearse-fresh --dry-run` says what a rehearsal would remove and do, and changes
/// nothing. (The real rehearsal strips the machine: no test runs it, not even to see it refuse.)
/// Here rather than with the CLI tests: it reads the machine's packages, engines and mounts.
@Suite struct RehearsalDryRunTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theDryRunListsEveryStepAndChangesNothing() async throws {
        // It concerns no engine in particular (and apt-get's simulation takes seconds): once.
        if Integration.onlyEngine == .podman { try Test.cancel("runs in the Docker pass") }
        // The rootless user's home holds its Podman storage (scripts/setup makes both).
        let rootlessHome = getpwnam("ccm-lua-ci").map { String(cString: $0.pointee.pw_dir) }
        let watched = ["/etc/containers/containers.conf", "/var/lib/docker", "/var/lib/containers", "/var/tmp/ccm-lua-setup"]
            + (rootlessHome.map { [$0] } ?? [])
        let before = watched.filter { FileManager.default.fileExists(atPath: $0) }
        // The host's dockerd by its pid file: `pidof` also lists engines inside test containers.
        let dockerd = try? String(contentsOfFile: "/var/run/docker.pid", encoding: .utf8)

        let output = try await ProcessRunner.run([Self.root.appendingPathComponent("scripts/rehearse-fresh").path, "--dry-run"],
                                                 timeout: 120)
        let text = output.stdoutText
        #expect(output.code == 0, "\(text)\n\(output.stderrText)")
        #expect(text.hasPrefix("dry run: nothing is changed"))
        // Every line says what it would do: nothing was done.
        let lines = text.split(separator: "\n").dropFirst()
        #expect(lines.allSatisfy { $0.hasPrefix("would ") || $0.hasPrefix("==> ") }, "\(text)")
        if !before.isEmpty {
            #expect(before.allSatisfy { text.contains($0) }, "not named: \(before.filter { !text.contains($0) })\n\(text)")
        }
        #expect(text.contains("would clone \(Self.root.path)") && text.contains("CI=true bash .ci/run"), "\(text)")
        if rootlessHome != nil {
            #expect(text.contains("would remove the user ccm-lua-ci"), "\(text)")
            #expect(getpwnam("ccm-lua-ci") != nil, "the rootless user is still there")
        }

        #expect(watched.filter { FileManager.default.fileExists(atPath: $0) } == before)
        let after = try? String(contentsOfFile: "/var/run/docker.pid", encoding: .utf8)
        #expect(after == dockerd, "dockerd changed")
    }
}
