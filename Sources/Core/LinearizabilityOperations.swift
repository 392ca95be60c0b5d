/// A client operation as the checker sees it: its invoke, its completion (nil when the outcome is
/// unknown), and where both sit in the history. Built by `pair`, which applies the history rules
/// once for every model.
struct CheckedOperation {
    var invocation: ClientOperation
    /// The `ok` completion; nil for an `info` or an invoke never completed.
    var completion: ClientOperation?
    /// The `info` completion, kept only to show it in a result.
    var unknownCompletion: ClientOperation?
    /// Positions in the history: the call, and the return (nil: returns at +infinity).
    var callPosition: Int
    var returnPosition: Int?

    var isDefinite: Bool { completion != nil }

    /// What a result shows for this operation: its completion, else its invoke.
    var shownCompletion: ClientOperation { completion ?? unknownCompletion ?? invocation }

    /// The value an operation wrote or compared: the invoke's, else the completion's.
    var argument: OperationValue {
        if invocation.value != .none { return invocation.value }
        return completion?.value ?? .none
    }

    /// Pairs invokes with completions per process and groups the operations by key ("" for none).
    /// Named processes (the nemesis) are skipped; a `fail` and its invoke are dropped.
    static func pair(_ history: OperationHistory) throws -> [String: [CheckedOperation]] {
        var open: [Int: (operation: ClientOperation, position: Int)] = [:]
        var byKey: [String: [CheckedOperation]] = [:]
        // Operations complete out of invocation order; sorting by call position at the end
        // keeps each key's list in invocation order.
        var finished: [CheckedOperation] = []
        finished.reserveCapacity(history.operations.count / 2)
        for (position, operation) in history.operations.enumerated() {
            guard case .client(let process) = operation.process else { continue }
            switch operation.kind {
            case .invoke:
                if let earlier = open[process] {
                    throw LinearizabilityError(
                        "process \(process) invokes again at index \(operation.index) before its operation at index "
                        + "\(earlier.operation.index) completed: give each process one operation at a time, and "
                        + "complete an unknown outcome with info")
                }
                open[process] = (operation, position)
            case .ok, .fail, .info:
                guard let (invocation, callPosition) = open.removeValue(forKey: process) else {
                    throw LinearizabilityError(
                        "\(operation.kind.rawValue) at index \(operation.index) for process \(process) has no invoke "
                        + "before it: every completion follows its process's invoke")
                }
                switch operation.kind {
                case .ok:
                    finished.append(CheckedOperation(invocation: invocation, completion: operation,
                                                     callPosition: callPosition, returnPosition: position))
                case .info:
                    finished.append(CheckedOperation(invocation: invocation, unknownCompletion: operation,
                                                     callPosition: callPosition, returnPosition: nil))
                default: break // a fail certainly did not take effect
                }
            }
        }
        for (_, (invocation, callPosition)) in open {
            finished.append(CheckedOperation(invocation: invocation, callPosition: callPosition, returnPosition: nil))
        }
        finished.sort { $0.callPosition < $1.callPosition }
        for operation in finished { byKey[operation.invocation.key ?? "", default: []].append(operation) }
        return byKey
    }
}
