import RNNJSON
package import RNNProtocol
import RNNService

extension ServiceError: RPCErrorConvertible {
    /// The refusal as the contract's error: its code, its message, and its details with the
    /// refused parameter's JSON pointer beside its dotted name.
    package var rpcError: RPCError {
        var data = details
        if case .string(let parameter)? = details["parameter"], data["pointer"] == nil {
            let path = parameter.split(separator: ".").reduce(WirePath.root) { $0.appending(String($1)) }
            data["pointer"] = .string(path.pointer)
        }
        return RPCError(kind.code, message, details: data)
    }
}

extension ServiceError.Kind {
    /// The contract's code for this kind of refusal.
    var code: RPCErrorCode {
        switch self {
        case .invalidArgument: .invalidParams
        case .modelNotFound: .modelNotFound
        case .modelExists: .modelExists
        case .modelBusy: .modelBusy
        case .jobNotFound: .jobNotFound
        case .limitReached: .limitReached
        case .storageFailed: .storageError
        case .modelUnloadable: .modelUnloadable
        case .trainingFailed: .trainingFailed
        case .pathNotAllowed: .pathNotAllowed
        case .shuttingDown: .shuttingDown
        case .corpusFailed: .corpusFailed
        case .internalFailure: .internalError
        }
    }
}
