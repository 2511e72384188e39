/// A JSON object's members, kept sorted by key in two parallel arrays.
///
/// Objects on the wire are small (a request's params, a status answer): a sorted array finds
/// a key by binary search without hashing, is written in order without sorting, and copies
/// as two buffers. `Dictionary` hashed every key on every insert and lookup, which showed as
/// the largest cost of a `daemon.status` round trip. Keys compare as `String`s do (canonical
/// equivalence), as they did as dictionary keys.
public struct JSONObject: Sendable, Hashable {
    /// The keys, ascending.
    public private(set) var keys: [String]
    /// The values, in the order of ``keys``.
    public private(set) var values: [JSON]

    /// An empty object.
    public init() {
        keys = []
        values = []
    }

    /// Members whose keys are known to ascend strictly (the parser checks).
    init(ascendingKeys keys: [String], values: [JSON]) {
        self.keys = keys
        self.values = values
    }

    /// An empty object with room for `capacity` members.
    public init(capacity: Int) {
        keys = []
        values = []
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    /// The members of `dictionary`.
    public init(_ dictionary: [String: JSON]) {
        let sorted = dictionary.sorted { $0.key < $1.key }
        keys = sorted.map(\.key)
        values = sorted.map(\.value)
    }

    /// The members of `pairs`; of keys given twice, the last value wins.
    public init(_ pairs: some Sequence<(String, JSON)>) {
        var keys: [String] = []
        var values: [JSON] = []
        for (key, value) in pairs {
            keys.append(key)
            values.append(value)
        }
        self = Self(gathered: keys, values) { (_: Int) -> Never? in nil }
    }

    /// The members `keys[i]: values[i]` in any order, sorted in O(n log n) (inserting one by
    /// one would shift the arrays each time: quadratic for a hostile object of 100,000 keys).
    /// For a key given twice, `duplicate` gets the later index and returns an error to throw,
    /// or nil to keep the later value.
    package init<E: Error>(gathered keys: [String], _ values: [JSON], duplicate: (Int) -> E?) throws(E) {
        if zip(keys, keys.dropFirst()).allSatisfy({ $0 < $1 }) {
            self.init(ascendingKeys: keys, values: values)
            return
        }
        // Stable: of equal keys, the one given later comes later.
        let order = keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
        var sortedKeys: [String] = []
        var sortedValues: [JSON] = []
        sortedKeys.reserveCapacity(keys.count)
        sortedValues.reserveCapacity(keys.count)
        for i in order {
            if let last = sortedKeys.last, last == keys[i] {
                if let error = duplicate(i) { throw error }
                sortedValues[sortedValues.count - 1] = values[i]
            } else {
                sortedKeys.append(keys[i])
                sortedValues.append(values[i])
            }
        }
        self.init(ascendingKeys: sortedKeys, values: sortedValues)
    }

    /// Members.
    public var count: Int { keys.count }
    /// Whether there are no members.
    public var isEmpty: Bool { keys.isEmpty }

    /// Where `key` is, or where it would go (`found` false).
    @inline(__always)
    func position(of key: String) -> (index: Int, found: Bool) {
        var low = 0
        var high = keys.count
        while low < high {
            let mid = (low + high) / 2
            let candidate = keys[mid]
            if candidate == key { return (mid, true) }
            if candidate < key { low = mid + 1 } else { high = mid }
        }
        return (low, false)
    }

    /// The value of `key`; setting nil removes the member.
    public subscript(key: String) -> JSON? {
        get {
            let (index, found) = position(of: key)
            // Not `found ? values[index] : nil`: JSON takes a nil literal, so that would be `.null`.
            guard found else { return Optional.none }
            return values[index]
        }
        set {
            if let newValue {
                updateValue(newValue, forKey: key)
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Sets `key` to `value`; the value it had, if any.
    @discardableResult
    public mutating func updateValue(_ value: JSON, forKey key: String) -> JSON? {
        // Members usually arrive in key order (written by this library, or by generated
        // code that sets them so): appending needs no search and no shifting.
        if let last = keys.last, last < key {
            keys.append(key)
            values.append(value)
            return Optional.none
        }
        let (index, found) = position(of: key)
        if found {
            defer { values[index] = value }
            return values[index]
        }
        keys.insert(key, at: index)
        values.insert(value, at: index)
        return Optional.none
    }

    /// Removes `key`; the value it had, if any.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSON? {
        let (index, found) = position(of: key)
        guard found else { return Optional.none }
        keys.remove(at: index)
        return values.remove(at: index)
    }

    /// The members as a dictionary.
    public var dictionary: [String: JSON] { Dictionary(uniqueKeysWithValues: zip(keys, values)) }
}

extension JSONObject: Sequence {
    /// The members in key order.
    public func makeIterator() -> some IteratorProtocol<(key: String, value: JSON)> {
        var index = 0
        let keys = keys
        let values = values
        return AnyIterator { () -> (key: String, value: JSON)? in
            guard index < keys.count else { return nil }
            defer { index += 1 }
            return (keys[index], values[index])
        }
    }

    public var underestimatedCount: Int { keys.count }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Of keys given twice, the last value wins.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self.init(elements)
    }
}
