import Foundation
import Testing

@testable import RNNCore

/// The vectorized kernels against libm in Double, over their whole useful range.
@Suite struct VectorMathTests {
    static let inputs: [Float] = (0..<20_001).map { Float($0 - 10_000) / 500 } + [1e-6, -1e-6, 0, 87, -87, 200, -200]

    func check(
        _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void, _ reference: (Double) -> Double,
        relative: Double, absolute: Double
    ) {
        var out = [Float](repeating: 0, count: Self.inputs.count)
        Self.inputs.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in kernel(x.baseAddress!, y.baseAddress!, x.count) }
        }
        var worst = 0.0
        for (x, y) in zip(Self.inputs, out) {
            let expected = reference(Double(x))
            let error = abs(Double(y) - expected) / max(abs(expected) * relative, absolute)
            worst = max(worst, error)
            if error > 1 { Issue.record("f(\(x)) = \(y), expected \(expected)"); return }
        }
        #expect(worst <= 1)
    }

    @Test func expIsAccurate() {
        check({ VectorMath.exp($0, $1, count: $2) }, { Foundation.exp(min($0, 88)) }, relative: 5e-7, absolute: 1e-37)
    }

    @Test func sigmoidIsAccurate() {
        check(
            { VectorMath.sigmoid($0, $1, count: $2) }, { 1 / (1 + Foundation.exp(-$0)) }, relative: 5e-7,
            absolute: 1e-30)
    }

    @Test func tanhIsAccurate() {
        check({ VectorMath.tanh($0, $1, count: $2) }, { Foundation.tanh($0) }, relative: 1e-6, absolute: 1e-30)
    }

    @Test func oddLengthsUseTheTail() {
        let x: [Float] = [0.1, -0.2, 0.3, 1, 2, 3, -4, 5, 0.5, -0.7, 9]
        for n in 0...x.count {
            var y = [Float](repeating: .nan, count: n)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { VectorMath.tanh(xp.baseAddress!, $0.baseAddress!, count: n) }
            }
            for i in 0..<n { #expect(abs(Double(y[i]) - Foundation.tanh(Double(x[i]))) < 1e-6) }
        }
    }
}
