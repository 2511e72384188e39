import RNNCore
import RNNJSON

#if canImport(Glibc)
    import Glibc
#endif

/// A named snapshot as the store lists it.
package struct SnapshotSummary: Sendable, Hashable {
    package var name: String
    /// The model's step when it was taken.
    package var step: Int
    /// The last validation loss recorded at or before that step.
    package var validationLoss: Double?
    package var bytes: Int
    /// Seconds since the Unix epoch.
    package var created: Double
}

/// Snapshots: `snapshots/NAME.safetensors` (weights, vocabulary, record) and
/// `snapshots/NAME.optimizer.safetensors` in the model's folder, written as checkpoints are
/// (optimizer first, each atomic, the pair tied by the record's step).
extension ModelStore {
    func snapshotsFolder(_ model: String) -> String { folder(model) + "/snapshots" }
    func snapshotPath(_ model: String, _ snapshot: String) -> String {
        snapshotsFolder(model) + "/" + snapshot + ".safetensors"
    }
    func snapshotOptimizerPath(_ model: String, _ snapshot: String) -> String {
        snapshotsFolder(model) + "/" + snapshot + ".optimizer.safetensors"
    }

    /// The names of a model's snapshots, by name.
    func snapshotNames(_ model: String) -> [String] {
        FileIO.list(snapshotsFolder(model)).compactMap { file in
            guard file.hasSuffix(".safetensors"), !file.hasSuffix(".optimizer.safetensors") else { return nil }
            let name = String(file.dropLast(".safetensors".count))
            return ModelName.isValid(name) ? name : nil
        }
    }

    /// Checks a snapshot's name: the contract's pattern, and not a name whose file would be
    /// another snapshot's optimizer state.
    static func checkSnapshotName(_ snapshot: String) throws(ServiceError) {
        try ModelName.check(snapshot, parameter: "name")
        guard !snapshot.hasSuffix(".optimizer") else {
            throw ServiceError.invalid(
                "name", "must not end in \".optimizer\" (the suffix of a snapshot's optimizer file)")
        }
    }

    /// Writes snapshot `snapshot` of `model`, replacing one of that name.
    func writeSnapshot(
        _ snapshot: String, of model: String, weights: CharRNN, vocabulary: Vocabulary, optimizer: Optimizer,
        record: ModelRecord
    ) throws(ServiceError) -> SnapshotSummary {
        try Self.checkSnapshotName(snapshot)
        guard FileIO.exists(folder(model)) else {
            throw ServiceError(.modelNotFound, "model '\(model)' was deleted", details: ["model": .string(model)])
        }
        try FileIO.makeDirectories(snapshotsFolder(model))
        try FileIO.syncDirectory(of: snapshotsFolder(model))
        let bytes = try write(
            weights, vocabulary: vocabulary, optimizer: optimizer, record: record,
            modelPath: snapshotPath(model, snapshot), optimizerPath: snapshotOptimizerPath(model, snapshot))
        return SnapshotSummary(
            name: snapshot, step: record.steps, validationLoss: record.lastValidationLoss, bytes: bytes,
            created: Self.modificationTime(snapshotPath(model, snapshot)))
    }

    /// Reads snapshot `snapshot` of `model` whole.
    func readSnapshot(_ snapshot: String, of model: String, maxParameters: Int) throws(ServiceError) -> (
        CharRNN, Vocabulary, Optimizer, ModelRecord, warning: String?
    ) {
        try Self.checkSnapshotName(snapshot)
        guard FileIO.exists(snapshotPath(model, snapshot)) else { throw Self.noSnapshot(snapshot, of: model) }
        // 4 bytes per parameter and a header: a larger file is refused before it is read.
        guard FileIO.size(snapshotPath(model, snapshot)) <= 4 * maxParameters + (16 << 20) else {
            throw ServiceError(
                .limitReached,
                "snapshot '\(snapshot)' is larger than limits.max_parameters = \(maxParameters) allows; raise the limit to restore it"
            )
        }
        return try read(
            modelPath: snapshotPath(model, snapshot), optimizerPath: snapshotOptimizerPath(model, snapshot),
            label: "snapshot '\(snapshot)' of model '\(model)'")
    }

    /// Removes snapshot `snapshot` of `model` (durably).
    func deleteSnapshot(_ snapshot: String, of model: String) throws(ServiceError) {
        try Self.checkSnapshotName(snapshot)
        guard FileIO.exists(snapshotPath(model, snapshot)) else { throw Self.noSnapshot(snapshot, of: model) }
        // The model file first: without it the optimizer file is no snapshot, and goes next.
        guard unlink(snapshotPath(model, snapshot)) == 0 else {
            throw ServiceError(.storageFailed, "cannot remove snapshot '\(snapshot)': \(FileIO.lastError())")
        }
        _ = unlink(snapshotOptimizerPath(model, snapshot))
        try FileIO.syncDirectory(of: snapshotPath(model, snapshot))
    }

    /// Every snapshot of `model` with its step and validation loss, read from the headers
    /// only (a snapshot of a large model is never read whole to be listed).
    func listSnapshots(_ model: String) -> [SnapshotSummary] {
        snapshotNames(model).compactMap { name in
            let path = snapshotPath(model, name)
            guard let record = try? Self.recordInHeader(path) else { return nil }
            return SnapshotSummary(
                name: name, step: record.steps, validationLoss: record.lastValidationLoss, bytes: FileIO.size(path),
                created: Self.modificationTime(path))
        }.sorted { ($0.created, $0.name) < ($1.created, $1.name) }
    }

    /// The rnnd record in a checkpoint's safetensors header.
    static func recordInHeader(_ path: String) throws -> ModelRecord {
        let prefix = try FileIO.read(path, offset: 0, count: 8)
        guard prefix.count == 8 else { throw UnreadableRecord(description: "\(path) is truncated") }
        let length = prefix.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard length > 0, length < 64 << 20 else { throw UnreadableRecord(description: "\(path) has no header") }
        let header = try JSONParser.parse(try FileIO.read(path, offset: 8, count: length))
        guard case .string(let text)? = header["__metadata__"]?["rnnd"] else {
            throw UnreadableRecord(description: "\(path) has no rnnd record")
        }
        return try decode(text)
    }

    static func modificationTime(_ path: String) -> Double {
        var st = stat()
        guard stat(path, &st) == 0 else { return 0 }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) * 1e-9
    }

    static func noSnapshot(_ snapshot: String, of model: String) -> ServiceError {
        ServiceError(
            .invalidArgument,
            "model '\(model)' has no snapshot '\(snapshot)'; model.snapshots (rnnctl snapshots) lists them",
            details: ["parameter": .string("name")])
    }
}
