import Testing
@testable import Core

@Suite struct LogTimestampTests {
    @Test func parsesDockerAndPodmanForms() throws {
        let docker = try #require(LogTimestamp("2026-11-21T20:12:06.123456789Z"))
        let trimmed = try #require(LogTimestamp("2026-11-21T20:12:06.1234Z"))
        let offset = try #require(LogTimestamp("2026-11-21T21:12:06.123456789+01:00"))
        #expect(docker == offset)
        #expect(trimmed < docker)
        #expect(docker.nanos == 123_456_789)
        #expect(try #require(LogTimestamp("1970-01-01T00:00:00Z")).seconds == 0)
        #expect(try #require(LogTimestamp("2000-03-01T00:00:00Z")).seconds == 951_868_800)
    }

    @Test func rejectsOtherText() {
        #expect(LogTimestamp("hello world") == nil)
        #expect(LogTimestamp("2026-11-21 20:12:06") == nil)
        #expect(LogTimestamp("2026-11-21T20:12:06.5") == nil)   // no zone
    }
}
