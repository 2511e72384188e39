public import RNNCore

/// Random token batches for tests, drawn from a seeded generator.
public func randomBatch(
    batchSize: Int, steps: Int, vocabularySize: Int, generator: inout RandomGenerator, weighted: Bool = false
) -> TokenBatch {
    let n = batchSize * steps
    let inputs = (0..<n).map { _ in Int32(generator.next() % UInt64(vocabularySize)) }
    let targets = (0..<n).map { _ in Int32(generator.next() % UInt64(vocabularySize)) }
    let weights = weighted ? (0..<n).map { _ in Float(generator.next() % 2) } : nil
    return TokenBatch(batchSize: batchSize, steps: steps, inputs: inputs, targets: targets, weights: weights)
}

/// A recurrent state filled with values in `(-0.5, 0.5)`, so that tests exercise the
/// carried-in state rather than zeros.
public func randomState(_ configuration: ModelConfiguration, batchSize: Int, generator: inout RandomGenerator)
    -> RecurrentState
{
    var state = RecurrentState(configuration, batchSize: batchSize)
    for i in state.values.indices { state.values[i] = generator.nextUnitFloat() - 0.5 }
    return state
}
