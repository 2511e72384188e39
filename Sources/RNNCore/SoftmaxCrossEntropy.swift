import RNNKernels

/// Softmax cross-entropy over rows of logits, in place.
enum SoftmaxCrossEntropy {
    /// Turns each row of `logits` into the gradient of the weighted loss with respect to it,
    /// `(softmax(row) − onehot(target)) · weight · scale`, and returns the weighted loss.
    ///
    /// - Parameters:
    ///   - logits: `rows x vocabulary`, overwritten.
    ///   - targets: one index per row.
    ///   - weights: one weight per row (a loss mask), or nil for all ones.
    ///   - scale: multiplies every gradient (1 for a summed loss, `1/Σw` for a mean).
    /// - Returns: `Σ w·(−log p[target])` in nats, accumulated in Double, and `Σ w`.
    static func lossAndGradient(
        logits: UnsafeMutablePointer<Float>, rows: Int, vocabulary v: Int, targets: UnsafePointer<Int32>,
        weights: UnsafePointer<Float>?, scale: Float
    ) -> (loss: Double, weight: Double) {
        // Two doubles on the stack: no array allocated per training step.
        var sums = SIMD2<Double>()
        withUnsafeMutableBytes(of: &sums) { raw in
            let out = raw.baseAddress!.assumingMemoryBound(to: Double.self)
            Kernels.table.pointee.softmax_xent(rows, v, logits, targets, weights, scale, out)
        }
        return (sums[0], sums[1])
    }
}
