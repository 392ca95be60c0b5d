import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Wakes a `ChangeSignal` whenever a file is written to, so a reader can sleep until there is
/// more to read instead of polling. Linux inotify, delivered through a Dispatch read source (no
/// thread blocks). Where inotify is not available `init` returns nil and the caller polls.
final class FileWatcher: @unchecked Sendable {   // the source is only touched in init and cancel()
    let changed: ChangeSignal
    #if os(Linux)
    private let source: any DispatchSourceRead

    /// Signals `changed` (a new one unless given) on every write to the file at `path`.
    init?(path: String, signal changed: ChangeSignal = ChangeSignal()) {
        self.changed = changed
        let fd = inotify_init1(Int32(O_NONBLOCK | O_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_MODIFY) | UInt32(IN_ATTRIB) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)
        guard inotify_add_watch(fd, path, mask) >= 0 else { close(fd); return nil }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: .global())
        let changed = self.changed
        source.setEventHandler {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
            changed.signal()
        }
        source.setCancelHandler { close(fd) }
        source.resume()
        self.source = source
    }

    func cancel() { source.cancel() }
    deinit { source.cancel() }
    #else
    init?(path: String, signal changed: ChangeSignal = ChangeSignal()) { return nil }
    func cancel() {}
    #endif
}
