import RNNKernels

/// An update rule and its hyperparameters.
public enum OptimizerKind: Sendable, Hashable, Codable {
    /// SGD with (PyTorch-style) momentum: `b = μ·b + g`, `p −= lr·b`; `μ = 0` is plain SGD.
    case sgd(momentum: Float)
    /// Adagrad as min-char-rnn writes it: `m += g²`, `p −= lr·g/√(m + ε)`.
    case adagrad(epsilon: Float)
    /// RMSProp as char-rnn and PyTorch write it: `v = α·v + (1−α)·g²`, `p −= lr·g/(√v + ε)`.
    case rmsprop(alpha: Float, epsilon: Float)
    /// Adam with bias correction.
    case adam(beta1: Float, beta2: Float, epsilon: Float)

    /// min-char-rnn's Adagrad (`ε = 1e-8`).
    public static let seedAdagrad = OptimizerKind.adagrad(epsilon: 1e-8)
    /// char-rnn's RMSProp (`α = 0.95`, `ε = 1e-8`).
    public static let charRNNRMSProp = OptimizerKind.rmsprop(alpha: 0.95, epsilon: 1e-8)
    /// Adam's usual defaults.
    public static let defaultAdam = OptimizerKind.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)

    /// A short stable name (`sgd`, `adagrad`, `rmsprop`, `adam`).
    public var name: String {
        switch self {
        case .sgd: "sgd"
        case .adagrad: "adagrad"
        case .rmsprop: "rmsprop"
        case .adam: "adam"
        }
    }

    /// How many moment buffers the rule keeps (each the size of the parameters).
    public var momentCount: Int {
        switch self {
        case .sgd(let momentum): momentum == 0 ? 0 : 1
        case .adagrad, .rmsprop: 1
        case .adam: 2
        }
    }
}

/// An optimizer's full state: rule, step count and moments, laid out like the parameters.
public struct Optimizer: Sendable {
    /// The update rule.
    public var kind: OptimizerKind
    /// Updates applied so far (Adam's bias correction counts from 1).
    public var step: Int
    /// The moment buffers (`momentCount` of them), each laid out like the parameters.
    public var moments: [[Float]]

    /// A fresh optimizer for `parameterCount` parameters.
    public init(kind: OptimizerKind, parameterCount: Int) {
        self.kind = kind
        self.step = 0
        self.moments = Array(repeating: [Float](repeating: 0, count: parameterCount), count: kind.momentCount)
    }

    /// An optimizer resumed from saved state.
    ///
    /// - Throws: ``RNNCoreError`` when the moments do not match the rule or the parameter count.
    public init(kind: OptimizerKind, step: Int, moments: [[Float]], parameterCount: Int) throws(RNNCoreError) {
        guard moments.count == kind.momentCount, moments.allSatisfy({ $0.count == parameterCount }), step >= 0
        else {
            throw RNNCoreError(
                .shapeMismatch,
                "\(kind.name) needs \(kind.momentCount) moment buffers of \(parameterCount) values and a step >= 0")
        }
        self.kind = kind
        self.step = step
        self.moments = moments
    }

    /// Applies one update to `parameters` from `gradients` with learning rate `lr`.
    public mutating func apply(to parameters: inout [Float], gradients: [Float], learningRate lr: Float) {
        precondition(parameters.count == gradients.count)
        step += 1
        let n = parameters.count
        let t = step
        let kind = kind
        parameters.withUnsafeMutableBufferPointer { pBuf in
            gradients.withUnsafeBufferPointer { gBuf in
                let p = pBuf.baseAddress!, g = gBuf.baseAddress!
                switch kind {
                case .sgd(let momentum) where momentum == 0:
                    for i in 0..<n { p[i] -= lr * g[i] }
                case .sgd(let momentum):
                    moments[0].withUnsafeMutableBufferPointer { b in
                        for i in 0..<n {
                            b[i] = momentum * b[i] + g[i]
                            p[i] -= lr * b[i]
                        }
                    }
                case .adagrad(let eps):
                    moments[0].withUnsafeMutableBufferPointer { m in
                        Kernels.table.pointee.adagrad(n, lr, eps, g, m.baseAddress!, p)
                    }
                case .rmsprop(let alpha, let eps):
                    moments[0].withUnsafeMutableBufferPointer { v in
                        Kernels.table.pointee.rmsprop(n, lr, alpha, eps, g, v.baseAddress!, p)
                    }
                case .adam(let beta1, let beta2, let eps):
                    let c1 = 1 - _pow(beta1, t)
                    let c2 = 1 - _pow(beta2, t)
                    let stepSize = lr / c1
                    let c2Root = c2.squareRoot()
                    // Take the second moment out so both buffers can be borrowed at once.
                    var second = moments[1]
                    moments[1] = []
                    moments[0].withUnsafeMutableBufferPointer { m in
                        second.withUnsafeMutableBufferPointer { v in
                            Kernels.table.pointee.adam(
                                n, stepSize, beta1, beta2, c2Root, eps, g, m.baseAddress!, v.baseAddress!, p)
                        }
                    }
                    moments[1] = second
                }
            }
        }
    }

    /// Grows every moment buffer from `old` to `new` layout, new rows starting at zero.
    public mutating func regrow(from old: ParameterLayout, to new: ParameterLayout) {
        var unused = RandomGenerator(seed: 0)
        moments = moments.map { old.regrow($0, into: new, fill: { _, _ in 0 }, generator: &unused) }
    }
}

/// `base^exponent` for a small non-negative integer exponent, in Double for accuracy.
@inline(__always) func _pow(_ base: Float, _ exponent: Int) -> Float {
    var result = 1.0
    var b = Double(base)
    var e = exponent
    while e > 0 {
        if e & 1 == 1 { result *= b }
        b *= b
        e >>= 1
    }
    return Float(result)
}
