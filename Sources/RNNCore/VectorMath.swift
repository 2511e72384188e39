import RNNKernels

/// exp, sigmoid and tanh over contiguous Float buffers, in the active kernel path.
///
/// libm's scalar `expf`/`tanhf` took a quarter of an LSTM training step; the kernels run
/// Cephes' `expf` (range reduction by `ln 2`, a degree-6 polynomial, the exponent built from
/// bits) as straight-line vector code: about 2 ulp on `[-87, 88]`, clamped outside, NaN kept.
/// `tanh` uses `1 − 2/(e^{2|x|} + 1)` with the sign restored, and an odd Taylor polynomial
/// below `|x| < 0.25`, where the first form would lose relative precision.
enum VectorMath {
    /// `y[i] = exp(x[i])`; `x` and `y` may be the same buffer.
    @inline(__always)
    static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        Kernels.table.pointee.exp(x, y, count)
    }

    /// `y[i] = 1/(1 + exp(−x[i]))`; `x` and `y` may be the same buffer.
    @inline(__always)
    static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        Kernels.table.pointee.sigmoid(x, y, count)
    }

    /// `y[i] = tanh(x[i])`; `x` and `y` may be the same buffer.
    @inline(__always)
    static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        Kernels.table.pointee.tanh(x, y, count)
    }
}
