public import ArgumentParser
public import RNNCore

// `--sample-weights` parses as a precision: its choices listed in the help and in the refusal
// of a bad value, one definition for every command that takes it.
extension SamplingPrecision: ExpressibleByArgument {}
