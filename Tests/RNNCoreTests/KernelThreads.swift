import Foundation

@testable import RNNCore

/// The kernel pool's thread count is one global, and suites run in parallel: a test that
/// changes it does so inside ``with(_:_:)``, one such test at a time, so that its "one
/// thread" really is one thread and its "two" are two.
enum KernelThreads {
    private static let lock = NSLock()

    /// Runs `body` with the pool at `threads` threads, then puts the count back.
    static func with<Result>(_ threads: Int, _ body: () throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        let previous = BLAS.threadCount
        BLAS.threadCount = threads
        defer { BLAS.threadCount = previous }
        return try body()
    }
}
