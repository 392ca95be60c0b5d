import Bindings
import Core
import Foundation
import Synchronization

/// Shows a cluster start a person can follow. On a terminal, one status line rewritten in place
/// (ready nodes, awaited nodes, elapsed time, ticking every half second); otherwise one plain log
/// line per node that became ready, so CI logs stay readable.
final class StartProgressPrinter: StartProgressObserver {
    private let cluster: String
    private let live = isatty(2) == 1
    private struct State { var last: StartProgress?; var ticker: Task<Void, Never>?; var began = ContinuousClock.now }
    private let state = Mutex(State())

    init(cluster: String) {
        self.cluster = cluster
        guard live else { return }
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                self?.redraw()
            }
        }
        state.withLock { $0.ticker = ticker }
    }

    func update(_ progress: StartProgress) {
        let previous = state.withLock { s -> StartProgress? in defer { s.last = progress }; return s.last }
        if live { redraw(); return }
        let newlyReady = progress.ready.filter { !(previous?.ready.contains($0) ?? false) }
        for node in newlyReady {
            let total = progress.ready.count + progress.waiting.count
            write("\(LogWriter.timestamp()) INFO  \(cluster): \(node) ready (\(progress.ready.count)/\(total), \(format(progress.elapsed)))\n")
        }
    }

    func finish() {
        let ticker = state.withLock { s -> Task<Void, Never>? in defer { s.ticker = nil }; return s.ticker }
        ticker?.cancel()
        if live { write("\r\u{1B}[K") }
    }

    private func redraw() {
        let (last, began) = state.withLock { ($0.last, $0.began) }
        guard let last, !last.waiting.isEmpty else { return }
        let elapsed = (ContinuousClock.now - began)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var line = "\r\u{1B}[K  starting \(cluster): "
        if !last.ready.isEmpty { line += "ready \(last.ready.joined(separator: ", ")) · " }
        line += "waiting for \(last.waiting.joined(separator: ", ")) · \(format(seconds))"
        write(line)
    }

    private func format(_ seconds: Double) -> String { String(format: "%.1f s", seconds) }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in _ = Foundation.write(2, buffer.baseAddress, buffer.count) }
    }
}
