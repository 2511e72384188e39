import RNNJSON
import RNNProtocol
import Testing

/// The generated straight-to-text writers and piecewise readers against the tree's: the same
/// text out, and the same values in (or a refusal where the tree refuses).
@Suite struct DirectWireTests {
    static let status =
        #"{"engine":{"cpu":"Intel(R) Xeon(R) \"quoted\" \u0001","gemm":"kernels","kernels":"avx512","selected_by":"cpuid","#
        + #""sampling_weights":"half","supported_kernels":["portable","avx2","avx512"],"threads":2},"jobs_running":0,"limits":{"idle_unload_seconds":0,"#
        + #""max_connections":256,"max_jobs":4,"max_loaded_models":8,"max_message_bytes":1048576,"max_sample_length":100000,"#
        + #""max_vocabulary":4096},"models_loaded":0,"models_total":-3,"pid":16120,"resident_bytes":31465472,"sampling":{"#
        + #""characters":0,"in_progress":0,"largest_batch":0,"mean_batch":2.5,"samples":0,"steps":0},"#
        + #""state_directory":"/tmp/lat/stäte","uptime_seconds":343.98309384,"version":"0.1.0"}"#

    /// Decodes `text` both ways: both refuse, or both give the value whose text is the same.
    func decodeBothWays<T: WireReadable>(_: T.Type, _ text: String) throws -> T? {
        let tree = try? T(wire: JSONParser.parse(text), at: .root)
        let direct = try? JSONReader.read(Array(text.utf8)) { try T(reading: &$0) }
        #expect((tree == nil) == (direct == nil), "tree \(tree == nil ? "refused" : "read"), direct not: \(text)")
        if let tree, let direct { #expect(JSONWriter.text(tree.wire) == JSONWriter.text(direct.wire)) }
        return direct
    }

    /// Writes `value` both ways: the same bytes.
    func writeBothWays(_ value: some WireCodable) {
        var direct: [UInt8] = []
        value.writeWire(into: &direct)
        #expect(String(decoding: direct, as: UTF8.self) == JSONWriter.text(value.wire))
    }

    @Test func aStatusReportReadsAndWritesAsTheTreeDoes() throws {
        let report = try #require(try decodeBothWays(StatusReport.self, Self.status))
        #expect(report.modelsTotal == -3 && report.sampling.meanBatch == 2.5)
        writeBothWays(report)
        var nan = report
        nan.uptimeSeconds = .nan
        writeBothWays(nan)
        nan.uptimeSeconds = 1e300
        writeBothWays(nan)
        nan.residentBytes = Int.min
        writeBothWays(nan)
    }

    @Test(arguments: [
        (#""models_total":-3"#, #""models_total":1e3"#),  // an exact integer written as a decimal
        (#""models_total":-3"#, #""models_total":10.5"#),  // not an integer
        (#""models_total":-3"#, #""models_total":18446744073709551615"#),  // past Int
        (#""models_total":-3,"#, ""),  // a required member missing
        (#""pid":16120"#, #""pid":16120,"pid":1"#),  // given twice
        (#""pid":16120"#, #""pid":16120,"extra":1"#),  // unknown
        (#""uptime_seconds":343.98309384"#, #""uptime_seconds":null"#),  // NaN travels as null
        (#""kernels":"avx512""#, #""kernels":"avx1024""#),  // not one of the enum
        (#""threads":2"#, #""threads":"2""#),  // wrong kind
        (#"["portable","avx2","avx512"]"#, #"["portable",]"#),  // not JSON
        (#""version":"0.1.0"}"#, #""version":"0.1.0"} x"#),  // text after the value
    ])
    func statusVariantsAreReadAsTheTreeReadsThem(_ change: (String, String)) throws {
        let text = Self.status.replacing(change.0, with: change.1)
        #expect(text != Self.status)
        _ = try decodeBothWays(StatusReport.self, text)
    }

    @Test(arguments: [
        #"{"text":"abc"}"#, #"{"l2e":{"task":"program","length":4,"nesting":2}}"#,
        #"{"l2e":{"task":"addition","length":4,"answer_only_loss":false,"reverse_input":true}}"#,
        #"{"l2e":{"length":0}}"#, #"{"l2e":{"length":1e20}}"#, #"{"l2e":{"task":"chess"}}"#, #"{"l2e":{"nesting":-1}}"#,
        #"{"l2e":{"unknown":true}}"#, #"{"plugin":"p","params":{"a":[1,{"b":null}]}}"#, #"{"text":"\ud83d\ude00"}"#,
        #"{"l2e":{"seed":9223372036854775807}}"#, #"{"l2e":{"answer_only_loss":null}}"#, "[]", "null",
    ])
    func rulesDefaultsAndEnumsAreReadAsTheTreeReadsThem(_ text: String) throws {
        if let spec = try decodeBothWays(CorpusSpec.self, text) { writeBothWays(spec) }
    }

    @Test(arguments: [
        #"{"jsonrpc":"2.0","method":"daemon.status","id":1}"#,
        #"{"id":"a","method":"model.info","params":{"model":"m"},"jsonrpc":"2.0"}"#,
        #"{"jsonrpc":"2.0","method":"model.list","params":[],"id":null}"#, #"{"jsonrpc":"2.0","method":"model.list"}"#,
        #"{"jsonrpc":"2.0","method":"model.list","id":9223372036854775807}"#,
        #"{"jsonrpc":"2.0","method":"model.list","id":1.5e300}"#,
        #"{"jsonrpc":"1.0","method":"model.list","id":1}"#, #"{"jsonrpc":"2.0","method":"model.list","id":[1]}"#,
        #"{"jsonrpc":"2.0","method":"model.list","id":1,"id":2}"#,
        #"{"jsonrpc":"2.0","method":"model.list","params":3}"#,
        #"{"jsonrpc":"2.0","method":"model.list","extra":1}"#, #"{"jsonrpc":"2.0","method":7}"#, #"{"jsonrpc":"2.0"}"#,
        #"{"jsonrpc":"2.0","method":"sample","id":1}"#, #"[{"jsonrpc":"2.0","method":"model.list","id":1}]"#,
    ])
    func requestsAreReadAsTheTreeValidatesThem(_ text: String) {
        let wanted: (String) -> Bool = { $0 != "sample" }
        let direct = try? JSONReader.read(Array(text.utf8)) { try RPCRequest(reading: &$0, wanted: wanted) }
        let tree = (try? JSONParser.parse(text)).flatMap { try? RPCRequest(validating: $0) }.flatMap {
            wanted($0.method) ? $0 : nil
        }
        #expect(direct == tree, "\(text)")
    }
}
