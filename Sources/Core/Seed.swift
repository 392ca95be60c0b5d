import Foundation

/// The run's seed: every random choice a script leaves to ccm-lua (partition presets, nemesis
/// schedules) derives from it, so a run can be repeated. `CCM_LUA_SEED` sets it; otherwise one is
/// drawn once per process.
public enum RunSeed {
    public static let variable = "CCM_LUA_SEED"

    public static let value: UInt64 = {
        if let text = ProcessInfo.processInfo.environment[variable], let seed = UInt64(text) { return seed }
        return UInt64.random(in: 0...UInt64(Int64.max))
    }()
}

/// SplitMix64: small, fast, and the same sequence for the same seed on every platform (Swift's
/// own generators promise no such thing).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in 0..<bound, without modulo bias worth caring about here.
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// Fisher-Yates with this generator (Swift's `shuffled(using:)` may change its algorithm).
    public mutating func shuffle<T>(_ items: [T]) -> [T] {
        var items = items
        var i = items.count - 1
        while i > 0 {
            let j = below(i + 1)
            items.swapAt(i, j)
            i -= 1
        }
        return items
    }
}
