import ArgumentParser

/// `rnnbench`: RNNCore's benchmarks and a stand-alone training run, on release builds.
@main
struct RNNBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnnbench",
        abstract: "Measure RNNCore: training and sampling speed, and learning on a corpus.",
        subcommands: [
            SpeedCommand.self, TrainCommand.self, DaemonCommand.self, LoadCommand.self, KernelsCommand.self,
            JSONCommand.self,
        ],
        defaultSubcommand: SpeedCommand.self)
}
