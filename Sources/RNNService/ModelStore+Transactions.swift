import CLinux
import RNNCore
import RNNJSON

#if canImport(Glibc)
    import Glibc
#endif

/// Create and delete as transactions: a new model is built in `staging/` and renamed into
/// `models/` only if its name is still free; a deleted one is renamed into `trash/` before
/// it is removed. A crash at any point leaves a whole model or none, never a folder that a
/// later model of the same name would inherit.
extension ModelStore {
    var stagingFolder: String { root + "/staging" }
    var trashFolder: String { root + "/trash" }

    /// A fresh folder in `staging/` for building model `name`.
    func makeStagingFolder(for name: String) throws(ServiceError) -> String {
        try FileIO.makeDirectories(stagingFolder)
        let path = stagingFolder + "/\(name).\(String(UInt64.random(in: 0 ... .max), radix: 36))"
        guard mkdir(path, 0o700) == 0 else {
            throw ServiceError(.storageFailed, "cannot create \(path): \(FileIO.lastError())")
        }
        return path
    }

    /// Writes a new model into a staging folder and renames it to `models/<name>`, durably;
    /// fails with `.modelExists`, leaving the existing model untouched, when the name is taken.
    func create(
        _ model: CharRNN, vocabulary: Vocabulary, optimizer: Optimizer, record: ModelRecord, name: String
    ) throws(ServiceError) -> Int {
        let staging = try makeStagingFolder(for: name)
        do throws(ServiceError) {
            let bytes = try write(model, vocabulary: vocabulary, optimizer: optimizer, record: record, into: staging)
            try FileIO.makeDirectories(modelsFolder)
            try FileIO.syncDirectory(of: staging)
            guard rnnd_rename_noreplace(AT_FDCWD, staging, AT_FDCWD, folder(name)) == 0 else {
                if errno == EEXIST || errno == ENOTEMPTY {
                    throw ServiceError(
                        .modelExists, "a model named '\(name)' was created meanwhile; pick another name",
                        details: ["model": .string(name)])
                }
                throw ServiceError(.storageFailed, "cannot move model '\(name)' into place: \(FileIO.lastError())")
            }
            try FileIO.syncDirectory(of: folder(name))
            return bytes
        } catch {
            FileIO.removeTree(staging)
            throw error
        }
    }

    /// Renames the model's folder into `trash/` (durably: once this returns, the model is gone
    /// after any crash), then removes it.
    func delete(_ name: String) throws(ServiceError) {
        try FileIO.makeDirectories(trashFolder)
        let trashed = trashFolder + "/\(name).\(String(UInt64.random(in: 0 ... .max), radix: 36))"
        guard rename(folder(name), trashed) == 0 else {
            if errno == ENOENT { return }
            throw ServiceError(.storageFailed, "cannot delete model '\(name)': \(FileIO.lastError())")
        }
        try FileIO.syncDirectory(of: folder(name))
        try FileIO.syncDirectory(of: trashed)
        FileIO.removeTree(trashed)
    }

    /// Removes what an interrupted create, delete or write left behind: `staging/`, `trash/`,
    /// temporary files, and model folders without a checkpoint. Returns what was removed,
    /// for the log.
    func removeLeftovers() -> [String] {
        var removed: [String] = []
        for folder in [stagingFolder, trashFolder] {
            for entry in FileIO.list(folder) {
                FileIO.removeTree(folder + "/" + entry)
                removed.append(folder + "/" + entry)
            }
        }
        for name in FileIO.list(modelsFolder) {
            let path = folder(name)
            guard ModelName.isValid(name), FileIO.exists(modelPath(name)) else {
                // A folder with no checkpoint is no model: an older rnnd's interrupted delete.
                var st = stat()
                if lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
                    FileIO.removeTree(path)
                    removed.append(path)
                }
                continue
            }
            for folder in [path, snapshotsFolder(name)] {
                for file in FileIO.list(folder) where file.hasSuffix(".tmp") {
                    _ = unlink(folder + "/" + file)
                    removed.append(folder + "/" + file)
                }
            }
        }
        return removed
    }
}
