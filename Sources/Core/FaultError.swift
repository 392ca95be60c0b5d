/// A fault could not be applied or healed. `kind` follows the Lua error kinds: "unsupported"
/// when the kernel or engine lacks what the fault needs (never a silent no-op).
public struct FaultError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case usage, unsupported, image, runtime }
    public var kind: Kind
    public var message: String
    public var node: String?
    public init(_ kind: Kind, _ message: String, node: String? = nil) {
        self.kind = kind; self.message = message; self.node = node
    }
    public var description: String { message }
}
