import Foundation

/// The seed of this run: the one number that makes a run repeatable. The test runner orders
/// tests by it and seeds Lua's `math.random` with it (so generated cluster names repeat); fault
/// presets and nemesis schedules default to it. `ccm-lua test --seed N` sets it, and hands it to
/// its worker processes through `CCM_LUA_SEED`; otherwise it is random and printed.
public enum RunSeed {
    public static let variable = "CCM_LUA_SEED"

    /// Seeds are shown and typed by people: kept below 2^31.
    public static let range: ClosedRange<Int64> = 0...Int64(Int32.max)

    /// CCM_LUA_SEED when it holds a number, else a random one, chosen once per process.
    public static let current: Int64 = parse(ProcessInfo.processInfo.environment[variable]) ?? random()

    public static func parse(_ text: String?) -> Int64? {
        guard let text, let value = Int64(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else { return nil }
        return value
    }

    public static func random() -> Int64 { Int64.random(in: range) }

    /// `current` as the generators take it.
    public static var value: UInt64 { UInt64(current) }
}

/// A small generator that gives the same sequence for the same seed on every platform (the
/// standard library's generator is random by design): SplitMix64.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: Int64) { state = UInt64(bitPattern: seed) }
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
