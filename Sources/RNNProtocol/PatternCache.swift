import Synchronization

/// Compiled `pattern`s of the contract, shared by every thread.
final class PatternCache: Sendable {
    private let compiled = Mutex<[String: Regex<AnyRegexOutput>]>([:])

    func matches(_ text: String, _ pattern: String) -> Bool {
        compiled.withLock { cache in
            let regex: Regex<AnyRegexOutput>
            if let known = cache[pattern] {
                regex = known
            } else {
                // The contract's patterns are checked by the tests; a broken one matches nothing.
                guard let made = try? Regex(pattern) else { return false }
                cache[pattern] = made
                regex = made
            }
            return (try? regex.firstMatch(in: text)) != nil
        }
    }
}
