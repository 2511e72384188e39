import Logging
import NIOCore
import Synchronization

/// Answer bytes handed to the server's connections and not yet written, across all of them.
/// A client that sends requests and reads none of the answers would otherwise have rnnd hold
/// every answer it computed (one batch of 1000 `daemon.metrics` calls answers 40 MB): a
/// connection that holds unwritten answers and would go past ``perConnection`` bytes, or past
/// ``smallShare`` while the server holds more than ``total``, is closed instead of handed more.
final class OutputBudget: Sendable {
    /// Unwritten answer bytes one connection may hold (a few of the largest answers: a score
    /// with per-character surprisal of a 1 MiB text is about 9 MB).
    static let perConnection = 32 << 20
    /// Unwritten answer bytes all connections together may hold.
    static let total = 256 << 20
    /// A connection holding no more than this is not closed for the total: clients that read
    /// their answers go on while one that does not is cut off.
    static let smallShare = 1 << 20

    private let held = Atomic<Int>(0)

    /// Bytes held now, across connections.
    var bytesHeld: Int { held.load(ordering: .relaxed) }

    /// One connection's view of the budget: its own unwritten bytes are its writability
    /// gate's.
    struct Share: Sendable {
        let budget: OutputBudget
        let gate: WritabilityGate
        let logger: Logger
        let peer: String

        /// Counts `bytes` about to be written to `channel`; false (and the channel closed)
        /// when they would take the connection or the server past its limit.
        func take(_ bytes: Int, channel: any Channel) -> Bool {
            let held = gate.unsent
            let mine = held + bytes
            let all = budget.held.add(bytes, ordering: .relaxed).newValue
            // An answer of a connection that holds nothing else goes out whatever its size
            // (the limits of each method bound it).
            guard
                held == 0
                    || (mine <= OutputBudget.perConnection
                        && (all <= OutputBudget.total || mine <= OutputBudget.smallShare))
            else {
                budget.held.subtract(bytes, ordering: .relaxed)
                logger.warning(
                    """
                    closing a connection from \(peer): its client left \(mine >> 20) MiB of answers unread \
                    (\(all >> 20) MiB across connections)
                    """)
                channel.close(promise: nil)
                return false
            }
            gate.submitted(bytes)
            return true
        }

        /// Counts `bytes` taken earlier as written (or dropped with the connection).
        func give(_ bytes: Int) {
            gate.completed(bytes)
            budget.held.subtract(bytes, ordering: .relaxed)
        }
    }
}
