import CoreMetrics

/// What the service counts, through swift-metrics (the daemon exports it for Prometheus).
/// The names are shared with the daemon's catalogue of help texts.
package enum ServiceMetrics {
    /// Characters drawn by `sample`.
    package static let sampledCharactersLabel = "rnnd_sampled_characters_total"
    /// Samples answered.
    package static let samplesLabel = "rnnd_samples_total"
    /// Rows of each batched sampling step.
    package static let batchRowsLabel = "rnnd_sample_batch_rows"
    /// Characters scored by `score`, and texts.
    package static let scoredCharactersLabel = "rnnd_scored_characters_total"
    package static let scoredTextsLabel = "rnnd_scored_texts_total"
    /// Characters trained on (jobs and fed text), counted per optimizer step.
    package static let trainedCharactersLabel = "rnnd_trained_characters_total"

    private static let sampledCharacters = Counter(label: sampledCharactersLabel)
    private static let samples = Counter(label: samplesLabel)
    private static let batchRows = Recorder(label: batchRowsLabel, aggregate: true)
    private static let scoredCharacters = Counter(label: scoredCharactersLabel)
    private static let scoredTexts = Counter(label: scoredTextsLabel)
    private static let trainedCharacters = Counter(label: trainedCharactersLabel)

    /// Counts characters drawn.
    static func sampled(characters: Int) { sampledCharacters.increment(by: characters) }
    /// Counts a sample answered.
    static func answeredSample() { samples.increment() }
    /// Records a batched step of `rows` samples.
    static func stepped(rows: Int) { batchRows.record(rows) }
    /// Counts a scoring call.
    static func scored(texts: Int, characters: Int) {
        scoredTexts.increment(by: texts)
        scoredCharacters.increment(by: characters)
    }
    /// Counts characters of an optimizer step.
    static func trained(characters: Int) { trainedCharacters.increment(by: characters) }
}
