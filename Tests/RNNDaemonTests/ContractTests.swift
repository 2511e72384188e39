import Foundation
import RNNJSON
import RNNProtocol
import Testing
import _RNNTestSupport

/// protocol/openrpc.json is the contract: the code's methods and parameters must be exactly
/// the document's, the compiled-in copy must be the file, and the file must be valid OpenRPC.
@Suite struct ContractTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let documentPath = root.appendingPathComponent("protocol/openrpc.json").path

    static func document() throws -> JSON {
        try JSONCoding.parse(Array(try Data(contentsOf: URL(fileURLWithPath: documentPath))))
    }

    @Test func codeAndDocumentListTheSameMethodsAndParameters() throws {
        let methods = try #require(try Self.document()["methods"]?.arrayValue)
        var documented: [String: (params: [String], readOnly: Bool)] = [:]
        for m in methods {
            let name = try #require(m["name"]?.stringValue)
            let params = (m["params"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            documented[name] = (params, m["x-read-only"] == .bool(true))
        }
        let coded = Dictionary(uniqueKeysWithValues: RPCMethods.all.map { ($0.name, $0) })
        #expect(Set(documented.keys) == Set(coded.keys), "methods only in the document or only in the code")
        for (name, doc) in documented {
            #expect(coded[name]?.parameters == doc.params, "\(name): parameters differ")
            #expect(coded[name]?.isReadOnly == doc.readOnly, "\(name): read-only flag differs")
        }
    }

    @Test func theCompiledInDocumentIsTheFile() throws {
        #expect(
            try JSONCoding.parse(Array(openRPCDocumentText.utf8)) == Self.document(),
            "run python3 protocol/generate_swift.py after editing protocol/openrpc.json")
    }

    @Test func everyErrorCodeOfTheDocumentExistsInCode() throws {
        let errors = try #require(try Self.document()["components"]?["errors"]?.objectValue)
        for (name, error) in errors {
            let code = Int(try #require(error["code"]?.numberValue))
            let reason = error["data"]?["reason"]?.stringValue
            #expect(
                RPCErrorCode.all.contains { $0.code == code && $0.reason == reason }, "\(name) \(code) \(reason ?? "")")
        }
    }

    @Test func theDocumentIsValidOpenRPC() throws {
        let schemaPath = Self.root.appendingPathComponent("protocol/openrpc-meta-schema.json").path
        let run = try runPython([
            "-c",
            "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))); print('valid')",
            Self.documentPath, schemaPath,
        ])
        #expect(run.status == 0, "OpenRPC meta-schema validation: \(run.output)")
    }

    @Test func theGeneratedCodeAndListsAreFresh() throws {
        let run = try runPython([Self.root.appendingPathComponent("protocol/generate_swift.py").path, "--check"])
        #expect(run.status == 0, "\(run.output)")
    }

    @Test func theTranscriptMatcherRejectsWhatDiffers() {
        let actual: JSON = .object(["a": .number(1), "b": .array([.string("x")])])
        #expect(matches(actual, .object(["a": .number(1)])))
        #expect(matches(actual, .object(["b": .string("*")])))
        #expect(!matches(actual, .object(["a": .number(2)])))
        #expect(!matches(actual, .object(["c": .string("*")])))
        #expect(!matches(actual, .object(["b": .array([])])))
    }
}
