import RNNClient
import RNNProtocol

/// The `data.reason` of rnnd's refusal of `body`, or the client's failure as text when the
/// connection broke; nil when nothing was refused. (``refusal(_:)`` gives the whole error.)
func refusalReason(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch RNNClient.Failure.daemon(let error) {
        return error.reason
    } catch {
        return "\(error)"
    }
}
