import ArgumentParser
import RNNClient
import RNNJSON
import RNNProtocol

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Keep a model's weights, vocabulary and optimizer state under a name, to restore later.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    @Argument(help: "The snapshot's name (default step-STEPS); an existing one is replaced.") var name: String?

    func run() throws {
        let params = try global.perform { try ModelSnapshot.Params(model: model, name: name).validated() }
        let client = try global.connect()
        let r = try global.perform { try client.modelSnapshot(params) }
        global.output(r.wire) { print("\(model): snapshot \(r.name) at step \(r.step) (\(bytes(r.bytes)))") }
    }
}

struct SnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots", abstract: "List a model's snapshots, oldest first.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String

    func run() throws {
        let client = try global.connect()
        let r = try global.perform { try client.modelSnapshots(.init(model: model)) }
        global.output(r.wire) {
            var table = Table("NAME", "STEP", "VAL LOSS", "SIZE")
            for s in r.snapshots {
                table.add(s.name, "\(s.step)", s.validationLoss.map(format4) ?? "-", bytes(s.bytes))
            }
            table.print()
            print("\(r.snapshots.count) of at most \(r.limit) (limits.max_snapshots)")
        }
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Put back a snapshot's weights, bit for bit, and checkpoint the model.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    @Argument(help: "The snapshot.") var name: String

    func run() throws {
        let client = try global.connect()
        let r = try global.perform { try client.modelRestore(.init(model: model, name: name)) }
        global.output(r.wire) { print("\(model): restored snapshot \(name)") }
    }
}

struct UnsnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm-snapshot", abstract: "Remove a model's snapshot.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.", completion: .modelNames) var model: String
    @Argument(help: "The snapshot.") var name: String

    func run() throws {
        let client = try global.connect()
        let r = try global.perform { try client.modelSnapshotDelete(.init(model: model, name: name)) }
        global.output(r.wire) { print("\(model): removed snapshot \(name)") }
    }
}
