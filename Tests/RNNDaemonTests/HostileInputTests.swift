import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

/// Hand-written bad input against a real rnnd: each gets a clear error, the daemon stays up,
/// and another client, connected throughout, sees nothing of it.
@Suite struct HostileInputTests {
    /// The error answered to `bytes` sent raw on a fresh connection.
    func error(for bytes: [UInt8], on daemon: DaemonProcess) throws -> RPCError? {
        let client = try daemon.client()
        // rnnd may answer and close before all of an over-long message is sent: the send then
        // fails with EPIPE, and the answer is still there to read.
        try? client.sendBytes(bytes)
        let response = try RPCResponse(parsing: JSONCoding.parse(client.readLine()))
        if case .failure(let error) = response.outcome { return error }
        return nil
    }

    func request(_ method: String, _ params: String, id: Int = 1) -> [UInt8] {
        Array(#"{"jsonrpc":"2.0","method":"\#(method)","params":\#(params),"id":\#(id)}"#.utf8) + [0x0A]
    }

    /// The bystander's connection still answers, and answers the same.
    func checkBystander(_ bystander: RNNClient, _ note: String) {
        #expect((try? bystander.call("model.list")["models"]?.arrayValue?.count) == 1, "\(note)")
    }

    @Test func eachBadInputGetsAClearErrorAndNobodyElseNotices() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let bystander = try daemon.client()
        try bystander.call(
            "model.create",
            ["model": .string("m"), "hidden_size": .number(8), "corpus": .object(["text": .string("ab")])])

        let cases: [(String, [UInt8], Set<String>)] = [
            ("invalid UTF-8", [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D, 0x0A], ["parse_error"]),
            ("deep nesting", Array(String(repeating: "[", count: 100_000).utf8) + [0x0A], ["parse_error"]),
            ("deep objects", Array(String(repeating: #"{"a":"#, count: 20_000).utf8) + [0x0A], ["parse_error"]),
            ("huge length", request("sample", #"{"model":"m","length":1e400}"#), ["parse_error", "invalid_params"]),
            ("length 10^9", request("sample", #"{"model":"m","length":1000000000}"#), ["invalid_params"]),
            ("length 0", request("sample", #"{"model":"m","length":0}"#), ["invalid_params"]),
            ("negative temperature", request("sample", #"{"model":"m","temperature":-1}"#), ["invalid_params"]),
            ("NaN temperature", request("sample", #"{"model":"m","temperature":NaN}"#), ["parse_error"]),
            ("temperature as text", request("sample", #"{"model":"m","temperature":"NaN"}"#), ["invalid_params"]),
            (
                "huge integer id", Array(#"{"jsonrpc":"2.0","method":"daemon.status","id":1e999}"#.utf8) + [0x0A],
                ["parse_error", "invalid_request"]
            ),
            ("name with NUL", request("model.info", #"{"model":"a\u0000b"}"#), ["invalid_params"]),
            ("name with ..", request("model.delete", #"{"model":".."}"#), ["invalid_params"]),
            ("name with /", request("model.create", #"{"model":"a/b"}"#), ["invalid_params"]),
            ("10 MB line", Array(repeating: 0x20, count: 10 << 20) + [0x0A], ["message_too_large"]),
        ]
        for (name, bytes, reasons) in cases {
            let refused = try error(for: bytes, on: daemon)
            #expect(
                refused.map { reasons.contains($0.reason ?? "") } == true, "\(name): \(String(describing: refused))")
            #expect(refused.map { $0.message.count > 10 } == true, "\(name): the message says what was wrong")
            checkBystander(bystander, name)
        }
    }

    @Test func aThousandRequestsInOneBatchAreAnsweredAndMoreAreRefused() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.client()
        func batch(_ n: Int) -> String {
            "[" + (0..<n).map { #"{"jsonrpc":"2.0","method":"daemon.status","id":\#($0)}"# }.joined(separator: ",")
                + "]"
        }
        try client.send(batch(1000))
        let answers = try JSONCoding.parse(client.readLine())
        #expect(answers.arrayValue?.count == 1000)
        #expect(Set(answers.arrayValue?.compactMap { $0["id"]?.int } ?? []) == Set(0..<1000))
        try client.send(batch(1001))
        let refused = try RPCResponse(parsing: JSONCoding.parse(client.readLine()))
        guard case .failure(let error) = refused.outcome else { Issue.record("1001 requests answered"); return }
        #expect(error.reason == "limit_reached")
    }

    @Test func halfMessagesAndEndlessLinesHurtNoOne() throws {
        let daemon = try DaemonProcess(config: "[limits]\nmax_message_bytes = 65536")
        defer { daemon.stop() }
        let bystander = try daemon.client()
        try bystander.call(
            "model.create",
            ["model": .string("m"), "hidden_size": .number(8), "corpus": .object(["text": .string("ab")])])
        // Half a message, then the client goes away.
        for _ in 0..<20 {
            let half = try daemon.client()
            try half.sendBytes(Array(#"{"jsonrpc":"2.0","method":"sample","params":{"model":"m","len"#.utf8))
        }
        checkBystander(bystander, "after half messages")
        // A line that never ends: 4 MB without a newline, the connection kept open. The daemon
        // answers once (too long), then drops what follows instead of buffering it.
        let endless = try daemon.client()
        let chunk = [UInt8](repeating: 0x61, count: 1 << 16)
        for _ in 0..<64 { try? endless.sendBytes(chunk) }
        let response = try RPCResponse(parsing: JSONCoding.parse(endless.readLine()))
        if case .failure(let error) = response.outcome {
            #expect(error.reason == "message_too_large")
        } else {
            Issue.record("an endless line was answered")
        }
        checkBystander(bystander, "during an endless line")
        let status = try bystander.call("daemon.status")
        let resident = status["resident_bytes"]?.int ?? 0
        #expect(resident > 1 << 20, "the resident size is read (a daemon is more than a MiB)")
        #expect(resident < 200 << 20, "the endless line is not kept: \(status)")
    }
}
