import RNNClient
import RNNJSON
import RNNProtocol
import Testing

@testable import RNNDaemon
@testable import RNNService

/// The contract's rules, generated into the parameter types: every refusal names the
/// parameter (dotted name and JSON pointer) and the rule; integers are exact.
@Suite struct ParameterRulesTests {
    func refusal<T: WireStruct>(_ type: T.Type, _ params: JSON) -> RPCError? {
        do {
            _ = try T(params: params)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        (#"{"model": "m", "length": 10.5}"#, "length", "type"),
        (#"{"model": "m", "seed": 1e20}"#, "seed", "type"),
        (#"{"model": "m", "length": 9223372036854775808}"#, "length", "type"),
        (#"{"model": "m", "length": 0}"#, "length", "minimum"),
        (#"{"model": "m", "temperature": 0}"#, "temperature", "minimum"),
        (#"{"model": "m", "temperature": 2000000}"#, "temperature", "maximum"),
        (#"{"model": "m", "temperature": null}"#, "temperature", "minimum"),
        (#"{"model": "m", "top_p": 1.5}"#, "top_p", "maximum"),
        (#"{"model": "m", "stop": ["a", ""]}"#, "stop.1", "minLength"),
        (#"{"model": "bad name"}"#, "model", "pattern"),
        (#"{"temperature": 1}"#, "model", "required"),
        (#"{"model": "m", "colour": 1}"#, "colour", "additionalProperties"),
    ])
    func sampleRefusalsNameTheParameterAndTheRule(_ text: String, _ parameter: String, _ rule: String) throws {
        let error = try #require(refusal(Sample.Params.self, try JSONParser.parse(text)))
        #expect(error.code == -32602)
        #expect(error.data?["parameter"] == .string(parameter), "\(error.message)")
        #expect(error.data?["pointer"] == .string("/" + parameter.replacing(".", with: "/")))
        #expect(error.data?["rule"] == .string(rule), "\(error.message)")
        #expect(error.message.contains("\"\(parameter)\""))
    }

    @Test func nestedRefusalsGiveTheirPath() throws {
        let error = try #require(
            refusal(
                TrainStart.Params.self,
                ["model": "m", "corpus": ["l2e": ["length": 12, "task": "program"]]]))
        #expect(error.data?["parameter"] == "corpus.l2e.length")
        #expect(error.data?["pointer"] == "/corpus/l2e/length")
        let enumError = try #require(
            refusal(ModelCreate.Params.self, ["model": "m", "architecture": "transformer"]))
        #expect(enumError.data?["rule"] == "enum")
        #expect(enumError.message.contains("rnn-tanh, rnn-relu, lstm, gru"))
    }

    @Test func defaultsComeFromTheContract() throws {
        let p = try Sample.Params(params: ["model": "m"])
        #expect(p.temperature == 1 && p.length == 200 && p.prime == "" && !p.stream && !p.argmax)
        let c = try ModelCreate.Params(params: ["model": "m"])
        #expect(c.architecture == .lstm && c.layers == 2 && c.hiddenSize == 128 && c.optimizer == .rmsprop)
    }

    @Test func byPositionParamsFollowTheContractOrder() throws {
        let p = try Sample.Params(params: ["m", 0.5])
        #expect(p.model == "m" && p.temperature == 0.5)
        let tooMany = try #require(refusal(ModelInfo.Params.self, ["m", 1]))
        #expect(tooMany.data?["rule"] == "maxItems")
    }

    @Test func largeIntegersArriveExactly() throws {
        let p = try Sample.Params(params: try JSONParser.parse(#"{"model": "m", "seed": 9007199254740993}"#))
        #expect(p.seed == 9_007_199_254_740_993)
        #expect(p.wire["seed"] == .integer(9_007_199_254_740_993))
    }

    @Test func idsAndSeedsRoundTripThroughTheDaemon() throws {
        let daemon = try DaemonProcess()
        defer { _ = daemon.stop() }
        let client = try daemon.client()
        _ = try client.call(
            "model.create", ["model": "m", "hidden_size": 16, "layers": 1, "corpus": ["text": "abcabcab"]])
        for id in [
            "9007199254740993", "9223372036854775807", "-9223372036854775808", "18446744073709551615",
            "123456789012345678901234567890", "9007199254740993.0", "1.5e300",
        ] {
            try client.send(#"{"jsonrpc": "2.0", "method": "daemon.status", "id": \#(id)}"#)
            let line = String(decoding: try client.readLine(), as: UTF8.self)
            #expect(line.contains(#""id":\#(id)"#), "\(line.prefix(80))")
        }
        func text(_ seed: String) throws -> String {
            try client.send(
                #"{"jsonrpc": "2.0", "method": "sample", "id": 1, "params": {"model": "m", "length": 40, "seed": \#(seed)}}"#
            )
            let response = try RPCResponse(parsing: JSONCoding.parse(client.readLine()))
            return try response.outcome.get()["text"]?.stringValue ?? ""
        }
        #expect(try text("9007199254740993") != text("0"))
        #expect(try text("9007199254740993") != text("9007199254740992"))
        #expect(try text("9007199254740993") == text("9007199254740993"))
    }

    /// The store keeps its own check of folder names (defence in depth below the wire); it
    /// and the contract's pattern agree.
    @Test(arguments: [
        "m", "Model_1.v2-x", String(repeating: "a", count: 64), String(repeating: "a", count: 65), "", ".hidden",
        "-x", "a/b", "../etc", "a\n", "é", "a b", "9",
    ])
    func theStoresNameCheckAgreesWithTheContract(_ name: String) {
        let pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
        #expect(ModelName.isValid(name) == WirePattern.matches(name, pattern), "\(name.debugDescription)")
        #expect(Sample.Params.fields.contains("model"))
        #expect(((try? Sample.Params(params: ["model": .string(name)])) != nil) == ModelName.isValid(name))
    }

    /// A diverged loss is not finite; JSON writes it as null and a client reads it back as
    /// NaN instead of refusing the whole result.
    @Test func nonFiniteResultsTravelAsNull() throws {
        let info = JobInfo(
            job: "job-1", model: "m", state: .failed, step: 3, loss: .infinity, validationLoss: .nan, elapsedSeconds: 1)
        #expect(info.wire["validation_loss"] == .null && info.wire["loss"] == .null)
        let back = try JobInfo(wire: info.wire, at: .root)
        #expect(back.validationLoss?.isNaN == true && back.loss?.isNaN == true)
    }
}
