import RNNCore
import RNNJSON
import Testing

/// Bytes that are not a loadable checkpoint are refused with a message saying why.
@Suite struct MalformedCheckpointTests {
    static func goodBytes() throws -> [UInt8] {
        let configuration = ModelConfiguration(architecture: .lstm, layers: 2, hiddenSize: 8, vocabularySize: 256)
        return Checkpoint(model: try CharRNN(configuration: configuration, seed: 2), vocabulary: .bytes).encoded()
    }

    func refusal(_ bytes: [UInt8]) -> RNNCoreError? {
        do {
            _ = try Checkpoint(decoding: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func truncatedFilesAreRefused() throws {
        let bytes = try Self.goodBytes()
        for length in [0, 7, 8, 20, bytes.count / 2, bytes.count - 1] {
            let error = try #require(refusal(Array(bytes.prefix(length))), "length \(length) was accepted")
            #expect(error.code == .malformedCheckpoint)
            #expect(
                error.message.contains("truncated") || error.message.contains("shorter")
                    || error.message.contains("JSON"))
        }
    }

    @Test func zeroedAndGarbageFilesAreRefused() throws {
        let bytes = try Self.goodBytes()
        #expect(refusal([UInt8](repeating: 0, count: bytes.count)) != nil)
        #expect(refusal(Array("not a checkpoint at all, just text".utf8)) != nil)
        var header = bytes
        header[12] = UInt8(ascii: "}")
        #expect(refusal(header)?.code == .malformedCheckpoint)
    }

    @Test func wrongShapesAreRefusedWithTheTensorName() throws {
        let configuration = ModelConfiguration(architecture: .lstm, layers: 2, hiddenSize: 8, vocabularySize: 256)
        let model = try CharRNN(configuration: configuration, seed: 2)
        var tensors = model.layout.tensors.map { spec in
            (name: spec.name, shape: spec.pytorchShape, values: try! model.pytorchTensor(named: spec.name))
        }
        tensors[3] = (tensors[3].name, [tensors[3].values.count - 1], Array(tensors[3].values.dropLast()))
        let bytes = SafeTensors.serialize(
            tensors: tensors,
            metadata: ["architecture": "lstm", "layers": "2", "hidden_size": "8", "vocabulary_size": "256"])
        let error = try #require(refusal(bytes))
        #expect(error.code == .shapeMismatch)
        #expect(error.message.contains(tensors[3].name))
    }

    @Test func newerFormatVersionsAreRefused() throws {
        let model = try CharRNN(
            configuration: ModelConfiguration(architecture: .gru, layers: 1, hiddenSize: 4, vocabularySize: 256),
            seed: 1)
        var checkpoint = Checkpoint(model: model, vocabulary: .bytes)
        checkpoint.metadata["x"] = "1"
        var bytes = checkpoint.encoded()
        let needle = Array("\"format_version\":\"1\"".utf8)
        let start = try #require(
            (0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
        bytes[start + needle.count - 2] = UInt8(ascii: "9")
        let error = try #require(refusal(bytes))
        #expect(error.code == .unsupportedCheckpoint)
        #expect(error.message.contains("upgrade"))
    }
}
