/// Jepsen's `jepsen.independent` runs one workload per key and records every client value as a
/// `[key value]` tuple under a single `:f`. Its checker splits the history by that key; ours splits
/// by `ClientOperation.key`, so such a history is rewritten into keyed operations first. It cannot
/// be told apart by content (a cas value `[old new]` is also a pair), so the caller asks for it.
extension OperationHistory {
    public struct NotIndependent: Error, Equatable, CustomStringConvertible {
        /// The operation whose value is not a `[key value]` pair.
        public var index: Int
        public var value: OperationValue
        public var description: String {
            "operation \(index) has value \(OperationHistoryEDN.write(value)), not a [key value] pair; "
                + "load it without `independent` if the history is not from jepsen.independent"
        }
    }

    /// Client operations' `[k v]` values become key `k` (its text) and value `v`. A completion
    /// without a pair (an `:info` of a crashed client often has none) takes its invoke's key.
    /// Operations of named processes (the nemesis) and those that already have a key are left as
    /// they are.
    public func splittingIndependentKeys() throws(NotIndependent) -> OperationHistory {
        var split = self
        var openKey: [Int: String] = [:]  // client process -> key of its invocation
        for i in split.operations.indices {
            let operation = split.operations[i]
            guard case .client(let process) = operation.process, operation.key == nil else { continue }
            if case .list(let pair) = operation.value, pair.count == 2, let key = Self.keyText(pair[0]) {
                split.operations[i].key = key
                split.operations[i].value = pair[1]
            } else if operation.kind != .invoke, let key = openKey[process] {
                split.operations[i].key = key
            } else {
                throw NotIndependent(index: operation.index, value: operation.value)
            }
            if operation.kind == .invoke { openKey[process] = split.operations[i].key } else { openKey[process] = nil }
        }
        return split
    }

    /// Keys are compared as text, as `ClientOperation.key` is: 3 and "3" are the same key.
    private static func keyText(_ value: OperationValue) -> String? {
        switch value {
        case .string(let text): text
        case .integer(let n): String(n)
        case .bool(let b): String(b)
        case .none: nil
        case .double, .list, .map: OperationHistoryEDN.write(value)
        }
    }
}
