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
        var loss = 0.0
        var total = 0.0
        for r in 0..<rows {
            let row = logits + r * v
            let w = weights?[r] ?? 1
            var m = row[0]
            for j in 1..<max(v, 1) where row[j] > m { m = row[j] }
            let target = Int(targets[r])
            // −log p = log Σ e^{x−m} − (x_target − m), taken before p[target] can underflow to 0.
            let targetShifted = row[target] - m
            for j in 0..<v { row[j] -= m }
            VectorMath.exp(row, row, count: v)
            var sum: Float = 0
            for j in 0..<v { sum += row[j] }
            loss += Double(w) * (Double(_log(sum)) - Double(targetShifted))
            total += Double(w)
            let k = w * scale / sum
            for j in 0..<v { row[j] *= k }
            row[target] -= w * scale
        }
        return (loss, total)
    }
}
