import RNNCore
import RNNJSON

/// The state folder: one folder per model under `models/`, holding `model.safetensors`
/// (weights, vocabulary, and the ``ModelRecord`` in its metadata), `optimizer.safetensors`
/// and the feed spool. Every write is atomic.
struct ModelStore: Sendable {
    let root: String

    var modelsFolder: String { root + "/models" }
    func folder(_ name: String) -> String { modelsFolder + "/" + name }
    func modelPath(_ name: String) -> String { folder(name) + "/model.safetensors" }
    func optimizerPath(_ name: String) -> String { folder(name) + "/optimizer.safetensors" }

    /// Names of every model folder with a checkpoint.
    func modelNames() -> [String] {
        FileIO.list(modelsFolder).filter { ModelName.isValid($0) && FileIO.exists(modelPath($0)) }
    }

    /// Writes the optimizer state, then the model (whose record names the optimizer's step),
    /// each atomically; a crash between the two leaves a model whose optimizer is one save
    /// behind, which ``load`` notices and resets.
    func save(_ model: CharRNN, vocabulary: Vocabulary, optimizer: Optimizer, record: ModelRecord, name: String)
        throws(ServiceError) -> Int
    {
        guard FileIO.exists(folder(name)) else {
            throw ServiceError(.modelNotFound, "model '\(name)' was deleted", details: ["model": .string(name)])
        }
        return try write(model, vocabulary: vocabulary, optimizer: optimizer, record: record, into: folder(name))
    }

    /// Writes the optimizer state, then the model, atomically, into `folder`.
    func write(
        _ model: CharRNN, vocabulary: Vocabulary, optimizer: Optimizer, record: ModelRecord, into folder: String
    ) throws(ServiceError) -> Int {
        try write(
            model, vocabulary: vocabulary, optimizer: optimizer, record: record,
            modelPath: folder + "/model.safetensors", optimizerPath: folder + "/optimizer.safetensors")
    }

    /// Writes the optimizer state (tagged with the record's step), then the model, each
    /// atomically; returns the model file's size.
    func write(
        _ model: CharRNN, vocabulary: Vocabulary, optimizer: Optimizer, record: ModelRecord, modelPath: String,
        optimizerPath: String
    ) throws(ServiceError) -> Int {
        let optimizerBytes = OptimizerCheckpoint.encode(
            optimizer, layout: model.layout, metadata: ["model_steps": String(record.steps)])
        try FileIO.atomicWrite(optimizerBytes, to: optimizerPath)
        let bytes = Checkpoint(model: model, vocabulary: vocabulary, metadata: ["rnnd": Self.encode(record)]).encoded()
        try FileIO.atomicWrite(bytes, to: modelPath)
        return bytes.count
    }

    /// Reads a model back.
    ///
    /// - Throws: ``ServiceError`` `.modelUnloadable` with the reason when the checkpoint is
    ///   truncated, malformed or inconsistent.
    func load(_ name: String) throws(ServiceError) -> (CharRNN, Vocabulary, Optimizer, ModelRecord, warning: String?) {
        try read(modelPath: modelPath(name), optimizerPath: optimizerPath(name), label: "model '\(name)'")
    }

    /// Reads a model and its optimizer from two files; `label` names them in errors.
    func read(modelPath: String, optimizerPath: String, label: String) throws(ServiceError) -> (
        CharRNN, Vocabulary, Optimizer, ModelRecord, warning: String?
    ) {
        let bytes = try FileIO.read(modelPath)
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint(decoding: bytes)
        } catch {
            throw ServiceError(.modelUnloadable, "\(label) cannot be loaded: \(error.message)")
        }
        guard let text = checkpoint.metadata["rnnd"] else {
            throw ServiceError(.modelUnloadable, "\(label) has no rnnd record in its checkpoint metadata")
        }
        let record: ModelRecord
        do {
            record = try Self.decode(text)
        } catch {
            throw ServiceError(.modelUnloadable, "\(label) has an unreadable rnnd record: \(error)")
        }
        var warning: String?
        var optimizer = Optimizer(kind: record.optimizerKind, parameterCount: checkpoint.model.parameterCount)
        if let optimizerBytes = try? FileIO.read(optimizerPath) {
            do {
                let saved = try OptimizerCheckpoint.decode(optimizerBytes, layout: checkpoint.model.layout)
                let file = try SafeTensors(parsing: optimizerBytes)
                if file.metadata["model_steps"] == String(record.steps) {
                    optimizer = saved
                } else {
                    warning = "optimizer state of \(label) is from another save; moments restart from zero"
                }
            } catch {
                warning = "optimizer state of \(label) is unreadable (\(error.message)); moments restart from zero"
            }
        }
        return (checkpoint.model, checkpoint.vocabulary, optimizer, record, warning)
    }

    static func encode(_ record: ModelRecord) -> String {
        JSONWriter.text((try? JSONTreeEncoder.encode(record)) ?? .null)
    }

    /// The record in a checkpoint's metadata; a value the contract does not know (an
    /// optimizer `"lion"`) is refused with the field named, never replaced by a default.
    static func decode(_ text: String) throws -> ModelRecord {
        do {
            return try JSONTreeDecoder.decode(ModelRecord.self, from: JSONParser.parse(text))
        } catch let DecodingError.dataCorrupted(context), let DecodingError.typeMismatch(_, context),
            let DecodingError.valueNotFound(_, context)
        {
            let field = context.codingPath.map { JSONTreeEncoder.snakeCase($0.stringValue) }.joined(separator: ".")
            throw UnreadableRecord(description: "\(field): \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, _) {
            throw UnreadableRecord(description: "\(JSONTreeEncoder.snakeCase(key.stringValue)) is missing")
        }
    }
}

/// Why a checkpoint's rnnd record could not be read: the field and what was wrong.
struct UnreadableRecord: Error, CustomStringConvertible {
    let description: String
}

/// Model names: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`, so no name can leave the state folder.
enum ModelName {
    static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count), isAlphanumeric(bytes[0]) else { return false }
        return bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    static func check(_ name: String, parameter: String = "model") throws(ServiceError) {
        guard isValid(name) else {
            throw ServiceError(
                .invalidArgument,
                "invalid \(parameter == "model" ? "model" : "snapshot") name \"\(name.prefix(80))\": use 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit",
                details: ["parameter": .string(parameter)])
        }
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
    }
}
