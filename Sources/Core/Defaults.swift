/// Every default time limit, in seconds, in one place. Lua and the CLI pass `nil` through when the
/// user gave nothing, and the Core call falls back to these; docs quote them from here.
public enum Defaults {
    /// `c:start`, `n:start`, `n:restart`: until every node is ready (a profile's `ready.timeout`
    /// overrides it, and the script's own value overrides both).
    public static let startTimeout: Double = 120
    /// `c:stop`, `n:stop`: how long a gentle stop waits before the engine kills the node.
    public static let stopTimeout: Double = 30
    /// `n:wait_log`, `c:wait_log_all`.
    public static let waitLogTimeout: Double = 60
    /// `wait_until`.
    public static let waitUntilTimeout: Double = 30
    /// `wait_until`'s pause between two checks.
    public static let waitUntilInterval: Double = 0.2
    /// `c:run_once`: a one-shot container that runs to completion.
    public static let runOnceTimeout: Double = 300
    /// `ccm-lua doctor`'s name-resolution check, all of it: two containers start (etcd, about 1 s
    /// on an idle machine) and one reaches the other; sized for two busy cores.
    public static let networkCheckTimeout: Double = 60
    /// `ccm-lua gc`: how long to wait for containers another process is removing (Podman's
    /// slowest `rm` of a container that ignores SIGTERM is about 10 s).
    public static let gcRemovalWait: Double = 30
    /// A throwaway container that removes a state folder or gives node folders to their owner,
    /// where ccm-lua itself may not.
    public static let folderContainerTimeout: Double = 60
    /// A test of the scenario runner (`it`), each hook on its own; `it(name, {timeout =}, fn)` and
    /// `ccm-lua test --timeout` override it.
    public static let testTimeout: Double = 600
    /// How long `ccm-lua gc` keeps a failed run's artifacts in `<state>/_artifacts/` (a day: time
    /// for a person to look at last night's failures).
    public static let artifactsRetention: Double = 24 * 60 * 60
    /// `http.request` and friends: connecting, sending and the whole answer.
    public static let httpTimeout: Double = 10
    /// `tcp.connect`, and each `send`/`receive` of its connection.
    public static let tcpTimeout: Double = 10
    /// The reaper's wait after its owner died before it removes the owner's resources, and again
    /// before its second sweep (a create the owner had started may land late).
    public static let reaperGrace: Double = 1
    /// How long a removed overlay network may still be listed by the swarm manager (measured
    /// here: up to 0.4 s) before its removal counts as failed.
    public static let overlayRemovalWait: Double = 10
}

extension Defaults {
    /// `check.linearizable`: past it the verdict is "unknown" (the search can be exponential).
    public static let checkTimeLimit: Double = 60
}

extension Defaults {
    /// A call to an engine's API (other than exec, which has its own limit): the client's calls
    /// have none, so this only ends a hung engine.
    public static let engineAPICall: Double = 300
    /// `podman system service` started by ccm-lua ends after this many seconds without requests,
    /// so nothing stays running long after ccm-lua exits (it is started again when needed).
    public static let podmanServiceIdle: Double = 20
    /// Starting `podman system service` until its socket answers (about 0.16 s measured).
    public static let podmanServiceStart: Double = 10
}
