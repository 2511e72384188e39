/// An optimizer's state as a second safetensors file beside the model's, so that training
/// resumes exactly: the rule and its hyperparameters and step in `__metadata__`, and each
/// moment buffer as tensors named `<parameter>.<moment>` in PyTorch's layout
/// (`momentum_buffer`, `sum`, `square_avg`, `exp_avg`, `exp_avg_sq`, as PyTorch names them).
public enum OptimizerCheckpoint {
    /// The moment names of `kind`, in buffer order.
    static func momentNames(_ kind: OptimizerKind) -> [String] {
        switch kind {
        case .sgd: ["momentum_buffer"]
        case .adagrad: ["sum"]
        case .rmsprop: ["square_avg"]
        case .adam: ["exp_avg", "exp_avg_sq"]
        }
    }

    /// The file's bytes for `optimizer`, whose moments are laid out by `layout`.
    public static func encode(_ optimizer: Optimizer, layout: ParameterLayout, metadata: [String: String] = [:])
        -> [UInt8]
    {
        var meta = metadata
        meta["format"] = "rnnd-optimizer"
        meta["format_version"] = String(Checkpoint.formatVersion)
        meta["optimizer"] = optimizer.kind.name
        meta["step"] = String(optimizer.step)
        switch optimizer.kind {
        case .sgd(let momentum): meta["momentum"] = "\(momentum)"
        case .adagrad(let eps): meta["epsilon"] = "\(eps)"
        case .rmsprop(let alpha, let eps):
            meta["alpha"] = "\(alpha)"
            meta["epsilon"] = "\(eps)"
        case .adam(let b1, let b2, let eps):
            meta["beta1"] = "\(b1)"
            meta["beta2"] = "\(b2)"
            meta["epsilon"] = "\(eps)"
        }
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        for (moment, buffer) in zip(momentNames(optimizer.kind), optimizer.moments) {
            for spec in layout.tensors {
                tensors.append((spec.name + "." + moment, spec.pytorchShape, CharRNN.read(spec, from: buffer)))
            }
        }
        return SafeTensors.serialize(tensors: tensors, metadata: meta)
    }

    /// Decodes an optimizer for parameters laid out by `layout`.
    ///
    /// - Throws: ``RNNCoreError`` when the file is malformed, names an unknown rule, or its
    ///   moments do not fit the layout.
    public static func decode(_ bytes: [UInt8], layout: ParameterLayout) throws(RNNCoreError) -> Optimizer {
        let file = try SafeTensors(parsing: bytes)
        let meta = file.metadata
        func number(_ key: String) throws(RNNCoreError) -> Float {
            guard let text = meta[key], let v = Float(text), v.isFinite else {
                throw RNNCoreError(.malformedCheckpoint, "optimizer metadata '\(key)' is missing or not a number")
            }
            return v
        }
        let kind: OptimizerKind
        switch meta["optimizer"] {
        case "sgd": kind = .sgd(momentum: try number("momentum"))
        case "adagrad": kind = .adagrad(epsilon: try number("epsilon"))
        case "rmsprop": kind = .rmsprop(alpha: try number("alpha"), epsilon: try number("epsilon"))
        case "adam":
            kind = .adam(beta1: try number("beta1"), beta2: try number("beta2"), epsilon: try number("epsilon"))
        default:
            throw RNNCoreError(
                .malformedCheckpoint, "optimizer state names no known optimizer: \(meta["optimizer"] ?? "none")")
        }
        guard let stepText = meta["step"], let step = Int(stepText), step >= 0 else {
            throw RNNCoreError(.malformedCheckpoint, "optimizer metadata 'step' is missing or not a count")
        }
        var moments: [[Float]] = []
        for moment in momentNames(kind).prefix(kind.momentCount) {
            var buffer = [Float](repeating: 0, count: layout.count)
            for spec in layout.tensors {
                let name = spec.name + "." + moment
                guard let entry = file.entries[name], entry.shape == spec.pytorchShape else {
                    throw RNNCoreError(
                        .shapeMismatch, "optimizer tensor '\(name)' is missing or not of shape \(spec.pytorchShape)")
                }
                CharRNN.write(try file.floats(name), to: spec, in: &buffer)
            }
            moments.append(buffer)
        }
        return try Optimizer(kind: kind, step: step, moments: moments, parameterCount: layout.count)
    }
}
