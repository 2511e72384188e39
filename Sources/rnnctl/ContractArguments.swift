public import ArgumentParser
public import RNNProtocol

// The contract's enums as option values: parsing, `--help` and shell completions all take
// their values from protocol/openrpc.json, through the generated types.
extension Architecture: ExpressibleByArgument {}
extension OptimizerName: ExpressibleByArgument {}
extension ClipMode: ExpressibleByArgument {}
extension VocabularyKind: ExpressibleByArgument {}
extension Initialization: ExpressibleByArgument {}
extension L2ESpec.Task: ExpressibleByArgument {}
extension L2ESpec.Curriculum: ExpressibleByArgument {}

extension CompletionKind {
    /// The names of the models rnnd knows, asked of rnnd when the shell completes.
    static var modelNames: CompletionKind { .shellCommand("rnnctl list 2>/dev/null | tail -n +2 | cut -d ' ' -f 1") }
    /// The ids of rnnd's jobs.
    static var jobIDs: CompletionKind { .shellCommand("rnnctl jobs 2>/dev/null | tail -n +2 | cut -d ' ' -f 1") }
}
