import Logging
import RNNCore
import RNNJSON
import RNNProtocol

/// `train.*`: jobs run on the model's worker thread; these methods start, watch and stop them.
extension Handlers {
    func trainStart(_ p: TrainStart.Params, notify: (@Sendable (JSON) -> Bool)?) async throws(DaemonError) -> JobInfo {
        guard await registry.runningJobs < limits.maxJobs else {
            throw DaemonError(
                .limitReached, "\(limits.maxJobs) jobs are running (limits.max_jobs); wait for one to end or cancel one"
            )
        }
        let opener = try corpusOpener(p.corpus)
        let host = try await registry.loadedHost(p.model)
        let shape = host.trainingShape
        try checkScratch(
            batch: p.batchSize ?? shape.batchSize, steps: p.seqLength ?? shape.seqLength,
            configuration: shape.configuration)
        guard let worker = host.currentWorker else {
            throw DaemonError(.modelBusy, "model '\(p.model)' is being unloaded")
        }
        let plan = TrainingPlan(
            steps: p.steps, epochs: p.epochs, seconds: p.seconds, batchSize: p.batchSize, seqLength: p.seqLength,
            learningRate: p.learningRate, clipValue: p.clipValue, validationFraction: p.validationFraction,
            validateEvery: p.validateEvery, checkpointEvery: p.checkpointEvery)
        let job = TrainingJob(id: await registry.newJobID(), model: p.model, plan: plan, opener: opener)
        if let notify {
            job.observe { info, final in if !final { _ = notify(info.wire) } }
        }
        try worker.submit(job)
        await registry.register(job)
        logger.info("started \(job.id) on \(p.model)", metadata: ["model": "\(p.model)", "job": "\(job.id)"])
        if notify != nil {
            let info = await job.finished()
            if info.state == .failed {
                throw DaemonError(.trainingFailed, info.error ?? "the job failed", details: ["job": .string(job.id)])
            }
            return info
        }
        return job.snapshot
    }

    func trainStatus(_ id: String) throws(DaemonError) -> JobInfo {
        try registry.publishedJob(id).snapshot
    }

    func trainCancel(_ id: String) async throws(DaemonError) -> JobInfo {
        let job = try await registry.job(id)
        job.cancel()
        return job.snapshot
    }

    func trainList() -> JobList {
        JobList(jobs: registry.directory.jobs.map(\.snapshot))
    }

    func feed(_ p: TrainFeed.Params) async throws(DaemonError) -> FeedResult {
        let bytes = Array(p.text.utf8)
        guard bytes.count <= limits.maxFeedBytes else {
            throw invalid(
                "text", "is \(bytes.count) bytes; one call takes at most \(limits.maxFeedBytes) (limits.max_feed_bytes)"
            )
        }
        let host = try await registry.loadedHost(p.model)
        guard let worker = host.currentWorker, let snapshot = host.snapshot else {
            throw DaemonError(.modelBusy, "model '\(p.model)' is being unloaded")
        }
        let unseen = snapshot.vocabulary.unseenScalars(in: p.text).count
        let (end, backlog) = try await blocking { () throws(DaemonError) in
            try host.appendToSpool(bytes, limit: limits.maxSpoolBytes, expectedEnd: p.offset)
        }
        worker.wake()
        return FeedResult(acceptedBytes: bytes.count, backlogBytes: backlog, newCharacters: unseen, spoolEnd: end)
    }
}
