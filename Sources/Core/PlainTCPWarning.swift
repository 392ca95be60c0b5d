import Foundation
import Synchronization

/// Says once per process, for each engine address, that it is reached over plain TCP (the rule
/// is `EngineLocation.isPlainTCP`, the text `EngineLocation.plainTCPWarning`).
public enum PlainTCPWarning {
    private static let said = Mutex<Set<String>>([])

    /// Writes the warning for `location` to stderr unless this process said it for that address.
    /// Returns whether it wrote.
    @discardableResult
    public static func sayOnce(_ location: EngineLocation,
                               write: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) -> Bool {
        guard let address = location.plainTCPAddress, let text = location.plainTCPWarning,
              said.withLock({ $0.insert(address).inserted }) else { return false }
        write(text)
        return true
    }
}
