/// A JSON number as it was written: a 64-bit integer (signed, or unsigned past Int64.max)
/// kept exactly, or a decimal with a fraction or an exponent held as a Double.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    @usableFromInline
    enum Storage: Sendable {
        case signed(Int64)
        case unsigned(UInt64)
        case decimal(Double)
    }

    @usableFromInline
    let storage: Storage
    /// The text a parsed decimal was written as, so that a value passed through (a request's
    /// id) is echoed exactly even where a Double would round it.
    let text: String?

    /// An exact integer; one wider than 64 bits is kept as a Double.
    public init(_ value: some BinaryInteger) {
        if let v = Int64(exactly: value) {
            storage = .signed(v)
        } else if let v = UInt64(exactly: value) {
            storage = .unsigned(v)
        } else {
            storage = .decimal(Double(value))
        }
        text = nil
    }

    /// A finite Double; nil for an infinity or NaN, which JSON cannot write.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        storage = .decimal(value)
        text = nil
    }

    init(storage: Storage, text: String? = nil) {
        self.storage = storage
        self.text = text
    }

    /// The value as a Double (rounded when an integer needs more than 53 bits).
    public var doubleValue: Double {
        switch storage {
        case .signed(let v): Double(v)
        case .unsigned(let v): Double(v)
        case .decimal(let v): v
        }
    }

    /// The value as `T` when it is integral and fits exactly (`10.0` is 10; `10.5` and
    /// `1e20` for an Int64 are nil).
    @inlinable
    public func exactly<T: FixedWidthInteger>(_: T.Type) -> T? {
        switch storage {
        case .signed(let v): T(exactly: v)
        case .unsigned(let v): T(exactly: v)
        case .decimal(let v): T(exactly: v)
        }
    }

    /// Whether the value is a whole number.
    public var isIntegral: Bool {
        switch storage {
        case .signed, .unsigned: true
        case .decimal(let v): v == v.rounded(.towardZero)
        }
    }

    public static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        switch (a.storage, b.storage) {
        case (.signed(let x), .signed(let y)): x == y
        case (.unsigned(let x), .unsigned(let y)): x == y
        case (.signed, .unsigned), (.unsigned, .signed): false
        case (.decimal(let x), .decimal(let y)): x == y
        case (.decimal(let d), .signed(let i)), (.signed(let i), .decimal(let d)): Int64(exactly: d) == i
        case (.decimal(let d), .unsigned(let u)), (.unsigned(let u), .decimal(let d)): UInt64(exactly: d) == u
        }
    }

    public func hash(into hasher: inout Hasher) {
        // Equal values hash alike: integers a Double holds exactly hash as that Double.
        switch storage {
        case .signed(let v) where Double(exactly: v) != nil: hasher.combine(Double(v))
        case .unsigned(let v) where Double(exactly: v) != nil: hasher.combine(Double(v))
        case .signed(let v): hasher.combine(v)
        case .unsigned(let v): hasher.combine(v)
        case .decimal(let v): if let i = Int64(exactly: v) { hasher.combine(Double(i)) } else { hasher.combine(v) }
        }
    }

    /// The number as JSON text: integers in full, a whole Double below 2^53 without a
    /// fraction, any other Double in its shortest round-tripping form.
    public var description: String {
        if let text { return text }
        switch storage {
        case .signed(let v): return String(v)
        case .unsigned(let v): return String(v)
        case .decimal(let v):
            if v == v.rounded(.towardZero), abs(v) < 9_007_199_254_740_992 { return String(Int64(v)) }
            return v.description
        }
    }
}

extension JSONNumber: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    public init(integerLiteral value: Int64) { self.init(storage: .signed(value)) }
    public init(floatLiteral value: Double) { self.init(storage: .decimal(value)) }
}
