/// What `ccm-lua test` asks of the Lua runner in each file: which tests, in which order, how long
/// each may take, what to keep. `ccm-lua FILE` runs with the defaults.
public struct TestRunConfig: Sendable, Equatable {
    /// Lua patterns; a test runs when its full name ("describe it") matches one (or there are none).
    public var filter: [String] = []
    public var filterOut: [String] = []
    /// A test runs when it has one of `tags` (or there are none) and none of `excludeTags`.
    public var tags: [String] = []
    public var excludeTags: [String] = []
    /// Name the selected tests, run nothing.
    public var list = false
    public var shuffle = false
    public var seed: Int64 = RunSeed.current
    public var repeatCount = 1
    public var exitFirst = false
    public var keepOnFailure = false
    /// For tests that set no `timeout` of their own.
    public var timeout: Double = Defaults.testTimeout
    /// Where each failed test's artifacts go (TestArtifacts), each test's with `artifactsEveryTest`.
    public var artifacts: String?
    /// `--artifacts DIR` keeps every test's artifacts; without it only failures leave any.
    public var artifactsEveryTest = false
    /// The file being run, as reports name it.
    public var file = ""

    public init() {}
}
