import Logging
import RNNCore
import RNNJSON

/// `train.*`: jobs run on the model's worker thread; these methods start, watch and stop them.
extension ModelService {
    /// Starts a job on `model` that trains on `corpus` as `plan` says. With `progress`, it
    /// is told every update and the call returns when the job ends; without, at once.
    package func startTraining(
        _ model: String, corpus: CorpusRequest, plan: TrainingPlan,
        progress: (@Sendable (JobProgress) -> Void)? = nil
    ) async throws(ServiceError) -> JobProgress {
        guard await registry.runningJobs < limits.maxJobs else {
            throw ServiceError(
                .limitReached, "\(limits.maxJobs) jobs are running (limits.max_jobs); wait for one to end or cancel one"
            )
        }
        let opener = try corpusOpener(corpus)
        let host = try await registry.loadedHost(model)
        let shape = host.trainingShape
        try checkScratch(
            batch: plan.batchSize ?? shape.batchSize, steps: plan.seqLength ?? shape.seqLength,
            configuration: shape.configuration)
        let worker = try host.runningWorker()
        let job = TrainingJob(id: await registry.newJobID(), model: model, plan: plan, opener: opener)
        if let progress {
            job.observe { info, final in if !final { progress(info) } }
        }
        try worker.submit(job)
        await registry.register(job)
        logger.info("started \(job.id) on \(model)", metadata: ["model": "\(model)", "job": "\(job.id)"])
        if progress != nil {
            let info = await job.finished()
            if info.phase == .failed {
                throw ServiceError(.trainingFailed, info.error ?? "the job failed", details: ["job": .string(job.id)])
            }
            return info
        }
        return job.snapshot
    }

    /// A job's progress as last published (answered without waiting for the registry).
    package func jobProgress(_ id: String) throws(ServiceError) -> JobProgress {
        try registry.publishedJob(id).snapshot
    }

    /// Asks a job to stop after its current step; returns its progress at once.
    package func cancelJob(_ id: String) async throws(ServiceError) -> JobProgress {
        let job = try await registry.job(id)
        job.cancel()
        return job.snapshot
    }

    /// Every job since rnnd started (the last 1000), oldest first.
    package func jobs() -> [JobProgress] {
        registry.directory.jobs.map(\.snapshot)
    }

    /// Appends `text` to the model's feed spool durably (with `offset`, only if the spool
    /// ends there) and wakes its learner.
    package func feed(_ model: String, text: String, offset: Int?) async throws(ServiceError) -> FeedReceipt {
        let bytes = Array(text.utf8)
        guard bytes.count <= limits.maxFeedBytes else {
            throw ServiceError.invalid(
                "text", "is \(bytes.count) bytes; one call takes at most \(limits.maxFeedBytes) (limits.max_feed_bytes)"
            )
        }
        let host = try await registry.loadedHost(model)
        let worker = try host.runningWorker()
        guard let snapshot = host.snapshot else { throw .unloading(model) }
        let unseen = snapshot.vocabulary.unseenScalars(in: text).count
        let limits = limits
        let (end, backlog) = try await blocking { () throws(ServiceError) in
            try host.appendToSpool(bytes, limit: limits.maxSpoolBytes, expectedEnd: offset)
        }
        worker.wake()
        return FeedReceipt(acceptedBytes: bytes.count, backlogBytes: backlog, newCharacters: unseen, spoolEnd: end)
    }
}

/// What `feed` took: bytes accepted, the backlog not learnt yet, characters new to the
/// vocabulary, and the spool's end (the offset of the next exactly-once feed).
package struct FeedReceipt: Sendable, Hashable {
    package var acceptedBytes: Int
    package var backlogBytes: Int
    package var newCharacters: Int
    package var spoolEnd: Int
}
