import Foundation

/// How one test of the scenario runner ended.
public enum TestStatus: String, Codable, Sendable, CaseIterable {
    case passed
    /// An assertion did not hold (assert.*, plain assert, or the error-log gate).
    case failed
    /// Any other error: the code under test or a hook raised.
    case errored
    /// It ran past its time limit and was stopped where it waited.
    case timedOut = "timed_out"
    /// Defined without a body, or with `pending`: not run.
    case pending
    /// Only named (`--list`).
    case listed

    /// Whether this ending makes the run fail.
    public var isFailure: Bool { self == .failed || self == .errored || self == .timedOut }
}

/// The last lines of one node's log, shown with a failure.
public struct NodeLogTail: Codable, Sendable, Equatable {
    /// "cluster/node".
    public var node: String
    public var lines: [String]
    public init(node: String, lines: [String]) { self.node = node; self.lines = lines }
}

/// One test's outcome, as the Lua runner reports it and every output format shows it.
public struct TestResult: Codable, Sendable, Equatable {
    public var file: String
    /// The describe names and the test's own, joined by spaces (what --filter matches).
    public var name: String
    public var status: TestStatus
    /// Seconds, hooks and cluster removal included.
    public var duration: Double
    /// For a failure: "file.lua:LINE: what happened".
    public var message: String?
    public var traceback: String?
    /// The innermost `log.step` running when it failed.
    public var step: String?
    public var logs: [NodeLogTail]?
    public var tags: [String]
    /// 1, 2, ... with --repeat; nil otherwise.
    public var repetition: Int?

    public init(file: String, name: String, status: TestStatus, duration: Double = 0, message: String? = nil,
                traceback: String? = nil, step: String? = nil, logs: [NodeLogTail]? = nil, tags: [String] = [],
                repetition: Int? = nil) {
        self.file = file; self.name = name; self.status = status; self.duration = duration; self.message = message
        self.traceback = traceback; self.step = step; self.logs = logs; self.tags = tags; self.repetition = repetition
    }

    /// The name with the repetition, where there is one: "a b [2]".
    public var displayName: String { repetition.map { "\(name) [\($0)]" } ?? name }
}

/// Every result of one run, in the order the tests ran.
public struct TestReport: Codable, Sendable, Equatable {
    public var seed: Int64
    public var results: [TestResult]
    /// Wall-clock seconds of the whole run.
    public var duration: Double

    public init(seed: Int64, results: [TestResult] = [], duration: Double = 0) {
        self.seed = seed; self.results = results; self.duration = duration
    }

    public func count(_ status: TestStatus) -> Int { results.count { $0.status == status } }

    /// Exit status 0 only when no test failed, errored or timed out.
    public var passed: Bool { !results.contains { $0.status.isFailure } }

    /// "3 passed, 1 failed, 1 pending": the statuses that occurred, in a fixed order.
    public var countsLine: String {
        let order: [(TestStatus, String)] = [(.passed, "passed"), (.failed, "failed"), (.errored, "errored"),
                                             (.timedOut, "timed out"), (.pending, "pending")]
        let parts = order.compactMap { status, word in count(status) > 0 ? "\(count(status)) \(word)" : nil }
        return parts.isEmpty ? "no tests" : parts.joined(separator: ", ")
    }
}
