/// Where a streamed sample's text goes as it is drawn. A batch of samples never waits for
/// one slow reader: it offers each piece and keeps it when the client has no room yet.
package struct SampleStream: Sendable {
    /// What became of a piece offered.
    package enum Offer: Sendable {
        /// Written.
        case sent
        /// The client has not read what came before; the piece was not written.
        case full
        /// The client went away.
        case gone
    }

    /// Writes a piece if the client has room now.
    package var offer: @Sendable (String) -> Offer
    /// Writes a piece, waiting for room (on a thread that may wait); false once the client
    /// is gone or read nothing for too long.
    package var send: @Sendable (String) -> Bool

    package init(offer: @escaping @Sendable (String) -> Offer, send: @escaping @Sendable (String) -> Bool) {
        self.offer = offer
        self.send = send
    }
}
