import Synchronization

/// Work other than sampling that keeps a core busy in this process: training jobs, online
/// training from the spool, evaluations and scorings. A lone sample spreads its step over
/// every core (``RNNCore/SamplingBatch/splitsUnits``) only while there is none: its threads
/// meet once per layer, and one waiting for a core that training holds stalls the sample by
/// a scheduler time slice (measured: p99 of a 200-character sample 4 ms alone, 260 ms while
/// a 2x128 LSTM trained, and the training 22% slower).
enum ComputeActivity {
    private static let running = Atomic<Int>(0)

    /// Whether no such work is running now.
    static var isIdle: Bool { running.load(ordering: .relaxed) == 0 }

    /// Runs `body`, counted as such work.
    static func during<T>(_ body: () -> T) -> T {
        begin()
        defer { end() }
        return body()
    }

    /// Counts a piece of work from now until ``end()``.
    static func begin() { running.add(1, ordering: .relaxed) }

    /// Ends what ``begin()`` counted.
    static func end() { running.subtract(1, ordering: .relaxed) }
}
