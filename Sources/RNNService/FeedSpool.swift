import RNNJSON

/// A model's feed spool: text accepted by `train.feed`, appended and fsynced before the
/// call returns, and learnt in the background.
///
/// Positions are absolute (bytes ever accepted). The file is `spool-<base>.txt`, where
/// `base` is the absolute position of its first byte; compaction writes a new file starting
/// at the consumed position, so that a crash at any point leaves a file that holds every
/// byte the last checkpoint has not learnt.
struct FeedSpool: Sendable {
    let folder: String
    private(set) var base: Int
    private(set) var end: Int

    /// Opens the spool in `folder`, keeping the newest file and removing older ones.
    init(folder: String) {
        self.folder = folder
        let files = FileIO.list(folder).compactMap { name -> Int? in
            guard name.hasPrefix("spool-"), name.hasSuffix(".txt") else { return nil }
            return Int(name.dropFirst(6).dropLast(4))
        }.sorted()
        base = files.last ?? 0
        for old in files.dropLast() { unlinkFile(folder + "/spool-\(old).txt") }
        end = base + FileIO.size(folder + "/spool-\(base).txt")
    }

    var path: String { folder + "/spool-\(base).txt" }

    /// Appends `bytes` durably; returns the new end position.
    mutating func append(_ bytes: [UInt8]) throws(ServiceError) -> Int {
        // Never creates the model's folder: a deleted model's must not come back.
        guard FileIO.exists(folder) else {
            throw ServiceError(.modelNotFound, "the model whose spool is \(folder) was deleted")
        }
        try FileIO.appendDurably(bytes, to: path)
        end += bytes.count
        return end
    }

    /// Up to `limit` bytes from absolute position `from`.
    func read(from: Int, limit: Int) throws(ServiceError) -> [UInt8] {
        let start = max(from, base)
        guard start < end else { return [] }
        return try FileIO.read(path, offset: start - base, count: min(limit, end - start))
    }

    /// Drops the bytes before `consumed` by writing the rest to a new file.
    mutating func compact(upTo consumed: Int) throws(ServiceError) {
        guard consumed > base, consumed <= end else { return }
        let rest = try read(from: consumed, limit: end - consumed)
        let newPath = folder + "/spool-\(consumed).txt"
        try FileIO.atomicWrite(rest, to: newPath)
        let oldPath = path
        base = consumed
        unlinkFile(oldPath)
    }
}

#if canImport(Glibc)
    import Glibc
#endif

private func unlinkFile(_ path: String) { _ = unlink(path) }
