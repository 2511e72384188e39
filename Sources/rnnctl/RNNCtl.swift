import ArgumentParser

/// `rnnctl`: the command-line client of rnnd. It knows the protocol, nothing else.
@main
struct RNNCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnnctl",
        abstract: "Talk to rnnd: create, train, feed and sample character-level RNN models.",
        discussion: """
            The socket is --socket, else $RNND_SOCKET, else /run/rnnd/rnnd.sock when it exists, else \
            $XDG_RUNTIME_DIR/rnnd/rnnd.sock. Exit codes: 0 done, 1 rnnd refused the request, \
            64 usage error, 69 rnnd not reachable.
            """,
        subcommands: [
            StatusCommand.self, PsCommand.self, ListCommand.self, ShowCommand.self, CreateCommand.self, RmCommand.self,
            LoadCommand.self, UnloadCommand.self, SaveCommand.self, ImportCommand.self, ExportCommand.self,
            SampleCommand.self, EvalCommand.self, TrainCommand.self, JobsCommand.self, CancelCommand.self,
            FeedCommand.self, SnapshotCommand.self, SnapshotsCommand.self, RestoreCommand.self, UnsnapshotCommand.self,
            CorporaCommand.self, StatsCommand.self, CallCommand.self,
        ])

    /// Without a verb there is nothing to do: a usage error (exit 64), not success.
    func run() throws {
        throw ValidationError("give a verb: rnnctl status, rnnctl sample MODEL, ... (rnnctl --help lists them)")
    }
}
