import Synchronization

/// Set when the request a computation serves is cancelled (its client went away, or rnnd is
/// stopping): long work asks it between chunks and ends early, and a sample's batch drops
/// its row. Whoever waits for such work may register a wake-up.
final class StopFlag: Sendable {
    private let state = Mutex<(isSet: Bool, wake: (@Sendable () -> Void)?)>((false, nil))

    /// Whether the work should stop.
    var isSet: Bool { state.withLock { $0.isSet } }

    /// Asks the work to stop and rings its wake-up.
    func set() {
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            state.isSet = true
            return state.wake
        }
        wake?()
    }

    /// Runs `wake` when the flag is set (at once if it is set already).
    func onSet(_ wake: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            state.wake = wake
            return state.isSet
        }
        if now { wake() }
    }

    /// The error that answers stopped work (no one may be left to read it).
    static var stoppedError: ServiceError {
        ServiceError(.shuttingDown, "the request was stopped: its client went away or rnnd is stopping")
    }

    /// Runs `operation` with a flag that task cancellation sets.
    static func whileRunning<T: Sendable>(
        _ operation: (StopFlag) async throws(ServiceError) -> T
    ) async throws(ServiceError) -> T {
        let flag = StopFlag()
        let result: Result<T, ServiceError> = await withTaskCancellationHandler {
            do throws(ServiceError) {
                return .success(try await operation(flag))
            } catch {
                return .failure(error)
            }
        } onCancel: {
            flag.set()
        }
        return try result.get()
    }
}
