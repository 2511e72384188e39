import NIOCore

/// An event loop as a task executor: a task that prefers it runs its code (and a default
/// actor's it calls) on the loop's thread, so that answering it needs no hop to the global
/// pool and back.
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
