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
