import Logging
import RNNJSON
import RNNProtocol
import Synchronization
import Testing

@testable import RNNServer

/// The dispatcher without sockets: the asynchronous path, batches, the read-only rules,
/// streams and the notifications' ids.
@Suite struct DispatcherTests {
    let dispatcher = Dispatcher(service: StubService(), logger: Logger(label: "test"))

    /// Lines a stream sent, from whichever thread sent them.
    final class Sent: Sendable {
        let lines = Mutex<[String]>([])
    }

    func handle(_ text: String, readOnly: Bool = false, sent: Sent = Sent()) async throws -> JSON? {
        let line = await dispatcher.handle(line: Array(text.utf8), readOnly: readOnly, peer: "test") { line, _ in
            sent.lines.withLock { $0.append(line) }
            return .sent
        }
        return try line.map { try JSONParser.parse($0) }
    }

    @Test func changingMethodsAreRefusedOnTheReadOnlySocket() async throws {
        let answer = try await handle(#"{"jsonrpc":"2.0","method":"daemon.shutdown","id":1}"#, readOnly: true)
        #expect(answer?["error"]?["data"]?["reason"] == "read_only_socket")
        let allowed = try await handle(#"{"jsonrpc":"2.0","method":"daemon.shutdown","id":1}"#)
        #expect(allowed?["result"]?["stopping"] == true)
    }

    @Test func batchesAnswerEachRequestAndSkipNotifications() async throws {
        let answer = try await handle(
            #"[{"jsonrpc":"2.0","method":"model.list","id":1},{"jsonrpc":"2.0","method":"model.list"},"#
                + #"{"jsonrpc":"2.0","method":"nope","id":2},{"jsonrpc":"1.0","id":3}]"#)
        let items = try #require(answer?.arrayValue)
        #expect(items.count == 3)
        #expect(items[0]["result"]?["models"] == .array([]))
        #expect(items[1]["error"]?["code"] == -32601)
        #expect(items[2]["error"]?["code"] == -32600 && items[2]["id"] == 3)
        #expect(try await handle("[]")?["error"]?["code"] == -32600)
    }

    @Test func streamsCarryTheRequestIdAndOnlyWhenAsked() async throws {
        let sent = Sent()
        let answer = try await handle(
            #"{"jsonrpc":"2.0","method":"sample","params":{"model":"m","length":25,"stream":true},"id":"s"}"#,
            sent: sent)
        #expect(answer?["result"]?["characters"] == 25)
        let notes = try sent.lines.withLock { $0 }.map { try JSONParser.parse($0) }
        #expect(notes.count == 3)
        #expect(notes.allSatisfy { $0["method"] == "sample.chunk" && $0["params"]?["id"] == "s" && $0["id"] == nil })
        let quiet = Sent()
        _ = try await handle(
            #"{"jsonrpc":"2.0","method":"sample","params":{"model":"m","length":25},"id":"q"}"#, sent: quiet)
        #expect(quiet.lines.withLock { $0 }.isEmpty)
    }

    @Test func errorsWithoutAWireFormAreInternalAndSayLittle() async throws {
        let answer = try await handle(#"{"jsonrpc":"2.0","method":"evaluate","params":{"model":"m"},"id":1}"#)
        #expect(answer?["error"]?["code"] == -32603)
        #expect(answer?["error"]?["message"]?.stringValue?.contains("log") == true)
    }

    @Test func immediateMethodsAreAnsweredInlineAndOthersDeferred() throws {
        guard
            case .answered(let line?) = dispatcher.answerImmediately(
                line: Array(#"{"jsonrpc":"2.0","method":"model.list","id":1}"#.utf8), readOnly: true, peer: "t")
        else { Issue.record("model.list was not answered immediately"); return }
        #expect(line.last == 0x0A)
        #expect(try JSONParser.parse(line.dropLast())["result"]?["models"] == .array([]))
        guard
            case .deferred(let parsed?) = dispatcher.answerImmediately(
                line: Array(#"{"jsonrpc":"2.0","method":"sample","params":{"model":"m"},"id":1}"#.utf8), readOnly: true,
                peer: "t")
        else { Issue.record("sample was not deferred with its parsed line"); return }
        #expect(parsed["method"] == "sample")
    }
}
