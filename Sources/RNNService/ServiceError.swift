package import RNNJSON

/// Why the service refused or failed a request: what kind of refusal, a message that says
/// what was wrong and what to do, and machine-readable details (the parameter, the model,
/// the job, the path). The daemon's bindings turn it into the contract's error codes; the
/// service itself knows no wire.
package struct ServiceError: Error, Sendable, CustomStringConvertible {
    /// What kind of refusal or failure.
    package enum Kind: Sendable, CaseIterable {
        /// A parameter breaks a rule of this service (a limit, a combination).
        case invalidArgument
        case modelNotFound
        case modelExists
        /// The model is training, loading or unloading: the request must wait or cancel.
        case modelBusy
        case jobNotFound
        /// A configured limit (models, jobs, parameters, spool, compute) is reached.
        case limitReached
        /// A file could not be read, written or synced.
        case storageFailed
        /// A checkpoint or import cannot be read as a model.
        case modelUnloadable
        case trainingFailed
        /// A client path is outside the allowed folders, or goes through a link.
        case pathNotAllowed
        case shuttingDown
        /// A corpus (file, folder, plugin) failed while it was read.
        case corpusFailed
        /// A bug: the service reached a state it should not.
        case internalFailure
    }

    /// What kind of refusal or failure.
    package var kind: Kind
    /// What was wrong and what to do.
    package var message: String
    /// Machine-readable details (`parameter`, `model`, `job`, `path`, ...).
    package var details: JSONObject

    package init(_ kind: Kind, _ message: String, details: JSONObject = [:]) {
        self.kind = kind
        self.message = message
        self.details = details
    }

    /// A refused parameter, named as the contract names it (dotted for nested members).
    package static func invalid(_ parameter: String, _ what: String) -> ServiceError {
        ServiceError(.invalidArgument, "parameter \"\(parameter)\" \(what)", details: ["parameter": .string(parameter)])
    }

    package var description: String { message }

    /// The refusal for a request that reached a model while it was being unloaded.
    package static func unloading(_ model: String) -> ServiceError {
        ServiceError(.modelBusy, "model '\(model)' is being unloaded")
    }
}

/// Why a configuration (file, command line, reload) was refused: the file, line or key and
/// what to write instead. Not a request error: rnnd refuses to start, or keeps the old one.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What was wrong and what to do.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
