import Logging
import RNNCore

/// Named snapshots, taken and restored on the worker thread between steps.
extension ModelWorker {
    /// Writes the weights, vocabulary and optimizer state as they are now under `name`,
    /// replacing a snapshot of that name.
    ///
    /// - Throws: `.limitReached` when the model already keeps `limits.max_snapshots` others.
    func takeSnapshot(_ name: String) throws(ServiceError) -> SnapshotSummary {
        try ModelStore.checkSnapshotName(name)
        let store = host.store
        let existing = store.snapshotNames(host.name)
        guard existing.contains(name) || existing.count < maxSnapshots else {
            throw ServiceError(
                .limitReached,
                "model '\(host.name)' keeps \(existing.count) snapshots (limits.max_snapshots = \(maxSnapshots)); "
                    + "remove one (model.snapshot_delete, rnnctl rm-snapshot), reuse a name, or raise the limit")
        }
        return try store.writeSnapshot(
            name, of: host.name, weights: trainer.model, vocabulary: vocabulary, optimizer: trainer.optimizer,
            record: record)
    }

    /// Puts back snapshot `name` bit for bit and checkpoints the model.
    ///
    /// - Throws: `.modelBusy` while a job trains; `.modelUnloadable` when the snapshot
    ///   cannot be read; `.invalidArgument` when there is no such snapshot.
    func restoreSnapshot(_ name: String) throws(ServiceError) {
        if let job = currentJob {
            throw ServiceError(
                .modelBusy,
                "model '\(host.name)' is training (job \(job.id)); cancel it (rnnctl cancel) or wait, then restore")
        }
        let (model, snapshotVocabulary, optimizer, _, warning) = try host.store.readSnapshot(
            name, of: host.name, maxParameters: maxParameters)
        if let warning { logger.warning("\(warning)", metadata: ["model": "\(host.name)"]) }
        guard model.parameterCount <= maxParameters else {
            throw ServiceError(
                .limitReached,
                "snapshot '\(name)' has \(model.parameterCount) parameters, more than limits.max_parameters = \(maxParameters)"
            )
        }
        do {
            try trainer.restore(model, optimizer: optimizer)
        } catch {
            throw ServiceError(.modelUnloadable, "snapshot '\(name)' cannot be restored: \(error.message)")
        }
        if snapshotVocabulary.count != vocabulary.count { feedHeldOut = [] }
        vocabulary = snapshotVocabulary
        dirty = true
        publish(activity: .idle)
        try save()
        logger.info("model \(host.name) restored from snapshot \(name)", metadata: ["model": "\(host.name)"])
    }
}
