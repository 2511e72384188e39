import Corpora
import RNNCore
import RNNJSON
import RNNProtocol
import RNNService

// The contract's enums and the engine's, mapped by exhaustive switches: a case added on
// either side fails the build here instead of falling back to a default at run time.

extension CellArchitecture {
    init(_ wire: Architecture) {
        self =
            switch wire {
            case .rnnTanh: .rnnTanh
            case .rnnRelu: .rnnReLU
            case .lstm: .lstm
            case .gru: .gru
            }
    }

    var wire: Architecture {
        switch self {
        case .rnnTanh: .rnnTanh
        case .rnnReLU: .rnnRelu
        case .lstm: .lstm
        case .gru: .gru
        }
    }
}

extension LearningToExecuteCorpus.Task {
    init(_ wire: L2ESpec.Task) {
        self =
            switch wire {
            case .program: .program
            case .addition: .addition
            case .copy: .copy
            }
    }
}

extension LearningToExecuteCorpus.Curriculum {
    init(_ wire: L2ESpec.Curriculum) {
        self =
            switch wire {
            case .baseline: .baseline
            case .naive: .naive
            case .mixed: .mixed
            case .combined: .combined
            }
    }
}

extension LearningToExecuteCorpus.Split {
    init(_ wire: L2ESpec.Split) {
        self =
            switch wire {
            case .train: .train
            case .validation: .validation
            case .test: .test
            }
    }
}

extension SampleStop {
    init(_ reason: StopReason?) {
        self =
            switch reason {
            case .stop?: .stop
            case .length?, nil: .length
            }
    }
}

extension Vocabulary.Kind {
    var wire: VocabularyKind {
        switch self {
        case .bytes: .bytes
        case .characters: .characters
        }
    }
}

extension EngineReport.Kernels {
    init(_ path: KernelPath) {
        self =
            switch path {
            case .portable: .portable
            case .avx2: .avx2
            case .avx512: .avx512
            }
    }
}

extension EngineReport.SamplingWeights {
    init(_ precision: SamplingPrecision) {
        self =
            switch precision {
            case .single: .single
            case .half: .half
            case .int8: .int8
            }
    }
}

extension OptimizerRule {
    init(_ wire: OptimizerName) {
        self =
            switch wire {
            case .sgd: .sgd
            case .adagrad: .adagrad
            case .adam: .adam
            case .rmsprop: .rmsprop
            }
    }

    var wire: OptimizerName {
        switch self {
        case .sgd: .sgd
        case .adagrad: .adagrad
        case .adam: .adam
        case .rmsprop: .rmsprop
        }
    }
}

extension ClippingRule {
    init(_ wire: ClipMode) {
        self =
            switch wire {
            case .none: .none
            case .value: .value
            case .norm: .norm
            }
    }

    var wire: ClipMode {
        switch self {
        case .none: .none
        case .value: .value
        case .norm: .norm
        }
    }
}

extension InitializationRule {
    init(_ wire: Initialization) {
        self =
            switch wire {
            case .charrnn: .charrnn
            case .gaussian: .gaussian
            case .pytorch: .pytorch
            }
    }
}

extension Vocabulary.Kind {
    init(_ wire: VocabularyKind) {
        self =
            switch wire {
            case .bytes: .bytes
            case .characters: .characters
            }
    }
}

extension ModelActivity {
    var wire: ModelState {
        switch self {
        case .unloaded: .unloaded
        case .idle: .idle
        case .training: .training
        case .learning: .learning
        case .failed: .failed
        }
    }
}

extension JobPhase {
    var wire: JobState {
        switch self {
        case .queued: .queued
        case .running: .running
        case .finished: .finished
        case .cancelled: .cancelled
        case .failed: .failed
        case .interrupted: .interrupted
        }
    }
}

extension JobEnding {
    var wire: JobStopReason {
        switch self {
        case .budget: .budget
        case .earlyStopping: .earlyStopping
        case .cancelled: .cancelled
        case .failed: .failed
        case .interrupted: .interrupted
        }
    }
}
