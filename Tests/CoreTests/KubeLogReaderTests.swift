import Testing
@testable import Core

/// Podman's k8s-file records, as conmon writes them (captured on the project machine).
@Suite struct KubeLogReaderTests {
    @Test func readsWholeLinesAndJoinsPieces() {
        var reader = KubeLogReader()
        let file = """
            2026-11-21T20:55:09.287771478+00:00 stdout F hello
            2026-11-21T20:55:09.290495799+00:00 stdout P partial-no-newline
            2026-11-21T20:55:10.292505838+00:00 stderr F err
            2026-11-21T20:55:10.292478798+00:00 stdout F  end
            2026-11-21T20:55:11.000000000+00:00 stdout F 

            """
        let lines = reader.feed(Array(file.utf8))
        #expect(lines == [
            LogLine(timestamp: "2026-11-21T20:55:09.287771478+00:00", text: "hello"),
            LogLine(timestamp: "2026-11-21T20:55:10.292505838+00:00", text: "err", isStderr: true),
            // Pieces of one stream join, under the first piece's time.
            LogLine(timestamp: "2026-11-21T20:55:09.290495799+00:00", text: "partial-no-newline end"),
            LogLine(timestamp: "2026-11-21T20:55:11.000000000+00:00", text: ""),
        ])
    }

    @Test func keepsARecordCutOffUntilItsEnd() {
        var reader = KubeLogReader()
        let record = Array("2026-11-21T20:55:09.287771478+00:00 stdout F a line with spaces\n".utf8)
        #expect(reader.feed(record[..<30]).isEmpty)
        #expect(reader.feed(record[30..<50]).isEmpty)
        #expect(reader.feed(record[50...]) == [LogLine(timestamp: "2026-11-21T20:55:09.287771478+00:00", text: "a line with spaces")])
    }

    @Test func parsesTagsWithFlags() {
        let parsed = KubeLogReader.parse("2026-11-21T20:55:09.287771478+00:00 stdout F:x text")
        #expect(parsed?.partial == false && parsed?.text == "text")
        #expect(KubeLogReader.parse("not a record at all") == nil)
    }
}
