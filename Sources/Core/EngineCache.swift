import Foundation
import Synchronization

/// The engines this process talks to, each discovered once (discovery asks the engine for its
/// version): scripts creating and attaching clusters and the subcommands share one client per
/// engine.
public final class EngineCache: Sendable {
    public static let shared = EngineCache()

    private let known = Mutex<[Engine: any ContainerRuntime]>([:])
    private let defaultEngine = Mutex<Engine?>(nil)

    public init() {}

    /// Uses `runtime` for its engine (and as the default) instead of discovering one: for tests
    /// with `CoreTesting.FakeContainerRuntime`, and for programs that embed ccm-lua.
    public func use(_ runtime: any ContainerRuntime) {
        known.withLock { $0[runtime.engine] = runtime }
        defaultEngine.withLock { $0 = runtime.engine }
    }

    /// The runtime for `engine`, or the default one (CCM_LUA_RUNTIME, CCM_CONTAINER_RUNTIME, then
    /// the first engine that answers).
    public func runtime(_ engine: Engine?) async throws -> any ContainerRuntime {
        if let engine, let runtime = known.withLock({ $0[engine] }) { return runtime }
        if engine == nil, let chosen = defaultEngine.withLock({ $0 }), let runtime = known.withLock({ $0[chosen] }) { return runtime }
        var environment = ProcessInfo.processInfo.environment
        if let engine { environment[EngineDiscovery.runtimeVariable] = engine.rawValue }
        let runtime = try await EngineDiscovery(environment: environment).discover()
        PlainTCPWarning.sayOnce(runtime.location)
        known.withLock { $0[runtime.engine] = runtime }
        if engine == nil { defaultEngine.withLock { $0 = runtime.engine } }
        return runtime
    }

    /// The client for an engine a cluster's record names, without probing it first: reading a
    /// record must work while that engine is down, and the first call says so if it is.
    public func cached(_ engine: Engine) -> any ContainerRuntime {
        known.withLock { known in
            if let runtime = known[engine] { return runtime }
            let runtime = EngineDiscovery.runtime(for: engine)
            PlainTCPWarning.sayOnce(runtime.location)
            known[engine] = runtime
            return runtime
        }
    }
}
