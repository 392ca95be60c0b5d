extension Cluster {
    /// Marks the cluster kept from now on (`ccm-lua test --keep-on-failure`): the record says so,
    /// so `gc` and the reaper leave it, and `ccm-lua rm` removes it. Its containers keep the
    /// labels they were created with; the record is what those two read first.
    public func keepAfterExit() throws {
        record.keep = true
        try store.save(record)
    }

    public var isKept: Bool { record.keep }
}
