import NIOConcurrencyHelpers
import RNNJSON

/// Admission for read-side compute (evaluations and scorings): at most `limits.max_evaluations`
/// at once, each on a thread of its own, never on the shared pool that file I/O (feeds,
/// saves, creates) needs. Past the limit a request is refused at once, so a client of the
/// world-writable read-only socket cannot queue hours of work in front of the admin.
final class ComputeSlots: Sendable {
    private let settings: ConfigurationBox
    private let running = NIOLockedValueBox(0)

    init(settings: ConfigurationBox) { self.settings = settings }

    /// Takes a slot or throws `limit_reached`; the caller must ``release()`` it.
    func acquire(_ what: String) throws(ServiceError) {
        let limit = settings.current.limits.maxEvaluations
        let taken = running.withLockedValue { count -> Bool in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard taken else {
            throw ServiceError(
                .limitReached,
                "\(limit) evaluations are running (limits.max_evaluations); \(what) again in a moment")
        }
        ComputeActivity.begin()
    }

    func release() {
        running.withLockedValue { $0 -= 1 }
        ComputeActivity.end()
    }
}
