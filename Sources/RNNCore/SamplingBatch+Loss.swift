import RNNKernels

extension SamplingBatch {
    /// Nats per character with which this batch's own products predict `tokens`: fed one at a
    /// time through a row from a zero state (teacher forcing), each next token scored
    /// against the row's logits. What a ``SamplingPrecision`` costs a model, measured on the
    /// arithmetic its samples run (for int8, the rounded inputs as well as the weights).
    ///
    /// - Throws: ``RNNCoreError`` when the batch is not empty, there are fewer than two
    ///   tokens, or a token is outside the vocabulary.
    public func natsPerCharacter(of tokens: [Int32]) throws(RNNCoreError) -> Double {
        guard rows.isEmpty else { throw RNNCoreError(.invalidArgument, "scoring needs an empty batch") }
        guard tokens.count >= 2 else { throw RNNCoreError(.invalidArgument, "scoring needs two tokens or more") }
        let v = state.vocabularySize
        guard tokens.allSatisfy({ $0 >= 0 && Int($0) < v }) else {
            throw RNNCoreError(.invalidArgument, "a token is outside the vocabulary of \(v)")
        }
        let draw = try SampleDraw(options: SamplingOptions(length: 0), vocabulary: vocabulary)
        state.zero(slot: 0)
        // The row primes with every token but the last, so it never draws; it ends (asking
        // for no characters) at the last step, which leaves its logits in place.
        rows.append(Row(id: -1, draw: draw, prime: Array(tokens.dropLast()), streams: false))
        defer { rows.removeAll() }
        // The evaluator's loss kernel (it overwrites the logits, which the next step refills).
        let crossEntropy = Kernels.table.pointee.softmax_xent!
        var sums = [0.0, 0.0]
        for t in 1..<tokens.count {
            step { _ in }
            var target = tokens[t]
            crossEntropy(1, v, state.logits[0], &target, nil, 1, &sums)
        }
        return sums[0] / Double(tokens.count - 1)
    }
}
