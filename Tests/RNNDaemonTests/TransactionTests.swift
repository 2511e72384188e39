import Foundation
import RNNClient
import RNNJSON
import RNNProtocol
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Create and delete as transactions (issue 13, items 9-11): a race of two creates, kill -9
/// during delete, and what interrupted work leaves in the state folder.
@Suite struct TransactionTests {
    @Test func twoCreatesOfOneNameLeaveTheWinnersModel() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        // A slow create (a large corpus to scan for its vocabulary) and a fast one, at once.
        let corpus = try daemon.writeCorpus("big.txt", String(repeating: shakespeare(100_000), count: 80))
        let outcomes = Outcomes()
        let group = DispatchGroup()
        for (index, params) in [
            ["model": JSON.string("same"), "hidden_size": .number(16), "corpus": .object(["file": .string(corpus)])],
            ["model": .string("same"), "hidden_size": .number(8), "vocabulary": .string("bytes")],
        ].enumerated() {
            group.enter()
            DispatchQueue.global().async {
                if index == 1 { usleep(30_000) }
                let outcome = refusalReason { _ = try daemon.client().call("model.create", params) } ?? "created"
                outcomes.set(index, outcome)
                group.leave()
            }
        }
        group.wait()
        let results = outcomes.all
        #expect(results.values.filter { $0 == "created" }.count == 1, "\(results)")
        #expect(results.values.filter { $0 == "model_exists" }.count == 1, "\(results)")
        let winnerHidden = results[0] == "created" ? 16 : 8
        #expect(try daemon.client().call("model.info", ["model": .string("same")])["hidden_size"]?.int == winnerHidden)
        daemon.stop()
        try daemon.start()
        #expect(try daemon.client().call("model.info", ["model": .string("same")])["hidden_size"]?.int == winnerHidden)
    }

    @Test func leftoversOfInterruptedWorkAreRemovedAtStart() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.client().call("model.create", ["model": .string("kept"), "hidden_size": .number(8)])
        daemon.stop()
        let state = daemon.stateDirectory
        let fm = FileManager.default
        // A half-deleted model (its spool without its checkpoint), a staged create, a trashed
        // folder and a temporary file from a write that never finished.
        try fm.createDirectory(atPath: state + "/models/ghost", withIntermediateDirectories: true)
        try "OLD TEXT OF A DELETED MODEL".write(
            toFile: state + "/models/ghost/spool-0.txt", atomically: false, encoding: .utf8)
        try fm.createDirectory(atPath: state + "/staging/new.1x2", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: state + "/trash/old.3y4", withIntermediateDirectories: true)
        // A link planted in the trash: removing leftovers must not follow it.
        let precious = daemon.root.path + "/precious"
        try fm.createDirectory(atPath: precious, withIntermediateDirectories: true)
        try "keep me".write(toFile: precious + "/file.txt", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: state + "/trash/link.5z6", withDestinationPath: precious)
        try Data(count: 10).write(to: URL(fileURLWithPath: state + "/models/kept/.model.safetensors.8a7b.tmp"))
        try daemon.start()
        #expect(!fm.fileExists(atPath: state + "/models/ghost"))
        #expect(try fm.contentsOfDirectory(atPath: state + "/staging").isEmpty)
        #expect(try fm.contentsOfDirectory(atPath: state + "/trash").isEmpty)
        #expect(fm.fileExists(atPath: precious + "/file.txt"))
        #expect(!fm.fileExists(atPath: state + "/models/kept/.model.safetensors.8a7b.tmp"))
        let client = try daemon.client()
        #expect(try client.call("model.list")["models"]?.arrayValue?.count == 1)
        try client.call(
            "model.create", ["model": .string("ghost"), "hidden_size": .number(8), "vocabulary": .string("bytes")])
        #expect(try client.call("model.info", ["model": .string("ghost")])["feed_backlog_bytes"]?.int == 0)
    }

    @Test func killedDuringDeleteTheModelIsWholeOrGone() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        var generator = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0..<1_000_000, using: &generator)
        var random = SeededRandom(seed)
        print("kill -9 during model.delete: seed \(seed)")
        for round in 0..<12 {
            let client = try daemon.client()
            if refusalReason({ try client.call("model.info", ["model": .string("d")]) }) == nil {
                try client.call("model.delete", ["model": .string("d")])
            }
            try client.call(
                "model.create", ["model": .string("d"), "hidden_size": .number(8), "vocabulary": .string("bytes")])
            try client.call(
                "train.feed", ["model": .string("d"), "text": .string(String(repeating: "OLD ", count: 20_000))])
            let deleter = Thread { _ = try? daemon.client().call("model.delete", ["model": .string("d")]) }
            deleter.start()
            usleep(UInt32(random.next() % 40_000))
            daemon.stop(signal: SIGKILL)
            try daemon.start()
            let after = try daemon.client()
            if refusalReason({ try after.call("model.info", ["model": .string("d")]) }) == nil {
                // Still there: whole, with its checkpoint and its text.
                #expect(
                    try after.call("sample", ["model": .string("d"), "length": .number(2)])["characters"]?.int == 2)
            } else {
                // Gone: a new model of that name starts with nothing of the old one's.
                try after.call(
                    "model.create", ["model": .string("d"), "hidden_size": .number(8), "vocabulary": .string("bytes")])
                #expect(
                    try after.call("model.info", ["model": .string("d")])["feed_backlog_bytes"]?.int == 0,
                    "round \(round)")
            }
        }
    }
}

extension TransactionTests {
    /// A feed chunk whose training fails (here: a ReLU RNN with the largest learning rate the
    /// contract allows and no clipping, whose states overflow by the third step, so every
    /// later step is refused as non-finite) is not counted as learnt: it stays in the spool,
    /// and rnnd does not spin on it.
    @Test func aFeedChunkThatFailsToTrainStaysInTheSpool() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.client()
        try client.call(
            "model.create",
            [
                "model": .string("wild"), "architecture": "rnn-relu", "hidden_size": .number(16),
                "vocabulary": .string("bytes"), "optimizer": .string("sgd"), "learning_rate": .number(1_000_000),
                "clip": "none", "batch_size": .number(2), "seq_length": .number(8),
                // A fixed seed, so the model is the same every run: with a random one the test
                // failed once in a full run (the chunk was learnt after all; a start whose
                // ReLUs are all dead would train finitely, which this did not confirm).
                "seed": .number(3),
            ])
        try client.call("train.feed", ["model": .string("wild"), "text": .string(shakespeare(4000))])
        Thread.sleep(forTimeInterval: 3)
        let info = try client.call("model.info", ["model": .string("wild")])
        #expect((info["feed_backlog_bytes"]?.int ?? 0) > 0, "\(info)")
        #expect(try client.call("daemon.status")["pid"] != nil)
    }
}

/// Results written from several threads.
final class Outcomes: @unchecked Sendable {
    // @unchecked: every access holds the lock.
    private let lock = NSLock()
    private var values: [Int: String] = [:]
    func set(_ index: Int, _ value: String) { lock.withLock { values[index] = value } }
    var all: [Int: String] { lock.withLock { values } }
}

/// xorshift64*, for reproducible kill timings from a printed seed.
struct SeededRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
