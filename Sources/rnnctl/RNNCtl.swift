import ArgumentParser

/// `rnnctl`: the command-line client of rnnd. It knows the protocol, nothing else.
@main
struct RNNCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnnctl",
        abstract: "Talk to rnnd: create, train, feed and sample character-level RNN models.",
        discussion: """
            The socket is --socket, else $RNND_SOCKET, else /run/rnnd/rnnd.sock when it exists, else \
            $XDG_RUNTIME_DIR/rnnd/rnnd.sock. --socket and --json may come before or after the verb. \
            Exit codes: 0 done, 1 rnnd refused the request, 64 usage error, 66 an input file \
            cannot be read, 69 rnnd not reachable.
            """,
        subcommands: [
            StatusCommand.self, MetricsCommand.self, PsCommand.self, ListCommand.self, ShowCommand.self,
            CreateCommand.self, RmCommand.self,
            LoadCommand.self, UnloadCommand.self, SaveCommand.self, ImportCommand.self, ExportCommand.self,
            SampleCommand.self, EvalCommand.self, ScoreCommand.self, TrainCommand.self, JobsCommand.self,
            CancelCommand.self,
            FeedCommand.self, SnapshotCommand.self, SnapshotsCommand.self, RestoreCommand.self, UnsnapshotCommand.self,
            CorporaCommand.self, StatsCommand.self, CallCommand.self,
        ])

    /// Runs the command line, with the options every verb takes allowed before the verb too
    /// (`rnnctl --socket S status`): they are moved after it, where the verb reads them.
    static func main() {
        main(Self.globalOptionsAfterVerb(Array(CommandLine.arguments.dropFirst())))
    }

    /// `arguments` with leading `--socket S`, `--socket=S` and `--json` moved after the verb.
    static func globalOptionsAfterVerb(_ arguments: [String]) -> [String] {
        var rest = arguments[...]
        var leading: [String] = []
        while let first = rest.first {
            if first == "--json" || first.hasPrefix("--socket=") {
                leading.append(first)
                rest = rest.dropFirst()
            } else if first == "--socket", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else {
                break
            }
        }
        guard let verb = rest.first, !leading.isEmpty else { return arguments }
        return [verb] + leading + rest.dropFirst()
    }

    /// Without a verb there is nothing to do: a usage error (exit 64), not success.
    func run() throws {
        throw ValidationError("give a verb: rnnctl status, rnnctl sample MODEL, ... (rnnctl --help lists them)")
    }
}
