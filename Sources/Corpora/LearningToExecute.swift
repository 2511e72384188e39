public import RNNCore

/// The program-execution corpus of "Learning to Execute" (Zaremba and Sutskever, 2014),
/// faithful to its generator: a program is a chain of `nesting` operations, each picked
/// uniformly from six; its text is every line followed by `#`, then `print(E)`, `@`, the
/// value, and `.`.
public struct LearningToExecute: Sendable {
    /// Digits of the literals (`1..<10^length`) and the scale of loop counts and small factors.
    public var length: Int
    /// Operations chained per program.
    public var nesting: Int

    public init(length: Int, nesting: Int) {
        self.length = length
        self.nesting = nesting
    }

    /// One generated program and its answer.
    public struct Program: Sendable, Hashable {
        /// The lines before the print (assignments, loops).
        public var lines: [String]
        /// The printed expression.
        public var expression: String
        /// Its value.
        public var value: Int
        /// `line#...print(E)@value.`
        public var text: String { lines.map { $0 + "#" }.joined() + "print(\(expression))@\(value)." }
    }

    private static let operations = 6

    /// Draws one program.
    public func program(_ g: inout SplitMix64) -> Program {
        var lines: [String] = []
        var expression = String(literal(&g))
        var value = Int(expression)!
        var variables = Array("abcdefghij").shuffledDeterministically(&g)
        for _ in 0..<nesting {
            // Each operation fills its operand slots in a random order; the first slot filled
            // takes the expression built so far, the others fresh literals.
            switch Int(g.next() % UInt64(Self.operations)) {
            case 0:  // (A+B) or (A-B)
                let plus = g.next() % 2 == 0
                let (a, b) = twoSlots((expression, value), &g)
                expression = "(\(a.0)\(plus ? "+" : "-")\(b.0))"
                value = plus ? a.1 + b.1 : a.1 - b.1
            case 1:  // (A*k) or (k*A), k in 1...4·length
                let k = Int(g.next() % UInt64(4 * length)) + 1
                let left = g.next() % 2 == 0
                expression = left ? "(\(expression)*\(k))" : "(\(k)*\(expression))"
                value *= k
            case 2:  // pass-through
                break
            case 3:  // v=A; then (v+B) or (v-B)
                guard let v = variables.popLast() else { break }
                let plus = g.next() % 2 == 0
                let (a, b) = twoSlots((expression, value), &g)
                lines.append("\(v)=\(a.0);")
                expression = "(\(v)\(plus ? "+" : "-")\(b.0))"
                value = plus ? a.1 + b.1 : a.1 - b.1
            case 4:  // v=A / for x in range(n):v+=B (or -=); the expression is v
                guard let v = variables.popLast() else { break }
                let n = Int(g.next() % UInt64(4 * length)) + 1
                let plus = g.next() % 2 == 0
                let (a, b) = twoSlots((expression, value), &g)
                lines.append("\(v)=\(a.0)")
                lines.append("for x in range(\(n)):\(v)\(plus ? "+=" : "-=")\(b.0)")
                expression = String(v)
                value = plus ? a.1 + n * b.1 : a.1 - n * b.1
            default:  // (C if A>B else D) or with <
                let greater = g.next() % 2 == 0
                var slots = [(expression, value)] + (0..<3).map { _ in literalSlot(&g) }
                let order = [0, 1, 2, 3].shuffledDeterministically(&g)
                var placed = [(String, Int)](repeating: ("", 0), count: 4)
                for (i, slot) in order.enumerated() { placed[slot] = slots[i] }
                slots = placed
                let (c, a, b, d) = (slots[0], slots[1], slots[2], slots[3])
                let condition = greater ? a.1 > b.1 : a.1 < b.1
                expression = "(\(c.0) if \(a.0)\(greater ? ">" : "<")\(b.0) else \(d.0))"
                value = condition ? c.1 : d.1
            }
        }
        return Program(lines: lines, expression: expression, value: value)
    }

    private func literal(_ g: inout SplitMix64) -> Int {
        var top = 1
        for _ in 0..<length { top *= 10 }
        return Int(g.next() % UInt64(top - 1)) + 1
    }

    private func literalSlot(_ g: inout SplitMix64) -> (String, Int) {
        let v = literal(&g)
        return (String(v), v)
    }

    /// Two operand slots filled in random order: the first filled gets `current`.
    private func twoSlots(_ current: (String, Int), _ g: inout SplitMix64) -> ((String, Int), (String, Int)) {
        let fresh = literalSlot(&g)
        return g.next() % 2 == 0 ? (current, fresh) : (fresh, current)
    }
}

extension Array {
    /// A Fisher-Yates shuffle driven by SplitMix64 (the standard library's draws are not
    /// pinned across toolchains).
    func shuffledDeterministically(_ g: inout SplitMix64) -> [Element] {
        var out = self
        guard out.count > 1 else { return out }
        for i in stride(from: out.count - 1, to: 0, by: -1) {
            let j = Int(g.next() % UInt64(i + 1))
            out.swapAt(i, j)
        }
        return out
    }
}
