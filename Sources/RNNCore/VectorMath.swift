/// Vectorized exp, sigmoid and tanh over contiguous Float buffers, eight lanes at a time.
///
/// libm's scalar `expf`/`tanhf` took a quarter of an LSTM training step; these run the same
/// math as straight-line SIMD code. `exp` is Cephes' `expf` (range reduction by `ln 2`, a
/// degree-6 polynomial, the exponent built from bits): about 2 ulp on `[-87, 88]`, clamped
/// outside. `tanh` uses `1 − 2/(e^{2|x|} + 1)` with the sign restored, and an odd Taylor
/// polynomial below `|x| < 0.25`, where the first form would lose relative precision.
enum VectorMath {
    typealias V = SIMD8<Float>

    @inline(__always)
    static func exp(_ x: V) -> V {
        var clamped = x.replacing(with: -87.3, where: x .< -87.3)
        clamped.replace(with: 88.0, where: clamped .> 88.0)
        // Adding 1.5·2^23 rounds to the nearest integer n and leaves n in the low mantissa
        // bits, which then build 2^n directly as a float's exponent.
        let shifted = clamped * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = V(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * r * r + r + 1
        let exponent = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((exponent &+ 127) &<< 23, to: V.self)
        return p * scale
    }

    @inline(__always)
    static func sigmoid(_ x: V) -> V {
        1 / (1 + exp(-x))
    }

    @inline(__always)
    static func tanh(_ x: V) -> V {
        let a = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: V.self)
        let big = 1 - 2 / (exp(2 * a) + 1)
        let a2 = a * a
        // tanh a = a − a³/3 + 2a⁵/15 − 17a⁷/315 + 62a⁹/2835 for small a.
        var small = V(repeating: 62.0 / 2835.0)
        small = small * a2 - 17.0 / 315.0
        small = small * a2 + 2.0 / 15.0
        small = small * a2 - 1.0 / 3.0
        small = (small * a2 + 1) * a
        let magnitude = big.replacing(with: small, where: a .< 0.25)
        return magnitude.replacing(with: -magnitude, where: x .< 0)
    }

    @inline(__always)
    private static func apply(
        _ f: (V) -> V, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        var i = 0
        let raw = UnsafeRawPointer(x)
        let out = UnsafeMutableRawPointer(y)
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: V.self)
            out.storeBytes(of: f(v), toByteOffset: 4 * i, as: V.self)
            i += 8
        }
        if i < count {
            var tail = V()
            for k in 0..<(count - i) { tail[k] = x[i + k] }
            let r = f(tail)
            for k in 0..<(count - i) { y[i + k] = r[k] }
        }
    }

    /// `y[i] = exp(x[i])`; `x` and `y` may be the same buffer.
    static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        apply(exp, x, y, count)
    }

    /// `y[i] = 1/(1 + exp(−x[i]))`; `x` and `y` may be the same buffer.
    static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        apply(sigmoid, x, y, count)
    }

    /// `y[i] = tanh(x[i])`; `x` and `y` may be the same buffer.
    static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        apply(tanh, x, y, count)
    }
}
