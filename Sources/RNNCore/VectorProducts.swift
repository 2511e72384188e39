import Dispatch

/// Matrix-vector products for one row (batch 1: sampling, the seed's RNN), in SIMD code.
///
/// OpenBLAS's `sgemm` with one row still packs its operands and wakes its thread pool,
/// which a training job in the same process may be holding; at batch 1 that cost more than
/// the arithmetic. These run on the calling thread (two threads for products of more than a
/// million weights, which are bound by memory bandwidth rather than by arithmetic).
enum VectorProducts {
    typealias V = SIMD8<Float>

    /// Products with at least this many weights are split across two threads.
    static let parallelThreshold = 1 << 20

    @inline(__always)
    static func fused(_ acc: V, _ a: V, _ b: V) -> V {
        #if RNND_FMA
            acc.addingProduct(a, b)
        #else
            acc + a * b
        #endif
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// `y = alpha·(x·B) + beta·y` with `x` of length `k` and `B` row-major `k x n` (leading
    /// dimension `ldb`).
    static func vectorMatrix(
        k: Int, n: Int, alpha: Float, x: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        y: UnsafeMutablePointer<Float>
    ) {
        if k * n >= parallelThreshold, n >= 64 {
            let half = (n / 2 + 31) & ~31
            // The halves write disjoint columns of y; the caller waits for both.
            nonisolated(unsafe) let (x, b, y) = (x, b, y)
            DispatchQueue.concurrentPerform(iterations: 2) { part in
                let start = part == 0 ? 0 : half
                let width = part == 0 ? half : n - half
                rowPanels(k: k, n: width, alpha: alpha, x: x, b: b + start, ldb: ldb, beta: beta, y: y + start)
            }
        } else if k * n >= largeThreshold {
            rowPanels(k: k, n: n, alpha: alpha, x: x, b: b, ldb: ldb, beta: beta, y: y)
        } else {
            columns(k: k, n: n, alpha: alpha, x: x, b: b, ldb: ldb, beta: beta, y: y)
        }
    }

    /// Matrices of at least this many weights are read row after row
    /// (``rowPanels(k:n:alpha:x:b:ldb:beta:y:)``), as memory streams best: a 2x128 LSTM's
    /// three 128x512 products do not stay in L2 between characters, and sampling it ran 45%
    /// faster this way than by column blocks (30K → 44K chars/s). Small ones (the seed's
    /// 100x100) keep the column order, within 1e-4 of the seed's numpy gradients.
    static let largeThreshold = 1 << 15

    /// `vectorMatrix` by rows, four at a time: `y += Σ x_i·B_i`, reading `B` in order (the
    /// hardware prefetcher's favourite), with `y` kept in L1.
    private static func rowPanels(
        k: Int, n: Int, alpha: Float, x: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        y: UnsafeMutablePointer<Float>
    ) {
        if beta == 0 {
            y.update(repeating: 0, count: n)
        } else if beta != 1 {
            for j in 0..<n { y[j] *= beta }
        }
        let wide = n & ~7
        var i = 0
        while i + 4 <= k {
            let (s0, s1, s2, s3) = (alpha * x[i], alpha * x[i + 1], alpha * x[i + 2], alpha * x[i + 3])
            let (x0, x1, x2, x3) = (V(repeating: s0), V(repeating: s1), V(repeating: s2), V(repeating: s3))
            let r0 = b + i * ldb
            let (r1, r2, r3) = (r0 + ldb, r0 + 2 * ldb, r0 + 3 * ldb)
            var j = 0
            while j < wide {
                var acc = load(y + j)
                acc = fused(acc, x0, load(r0 + j))
                acc = fused(acc, x1, load(r1 + j))
                acc = fused(acc, x2, load(r2 + j))
                acc = fused(acc, x3, load(r3 + j))
                store(acc, y + j)
                j += 8
            }
            while j < n {
                y[j] += s0 * r0[j] + s1 * r1[j] + s2 * r2[j] + s3 * r3[j]
                j += 1
            }
            i += 4
        }
        while i < k {
            let s = alpha * x[i]
            let row = b + i * ldb
            for j in 0..<n { y[j] += s * row[j] }
            i += 1
        }
    }

    /// `vectorMatrix` over a block of columns: 32 columns at a time in four accumulators,
    /// walking down the rows, so each weight is loaded once.
    private static func columns(
        k: Int, n: Int, alpha: Float, x: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        y: UnsafeMutablePointer<Float>
    ) {
        var j = 0
        while j + 32 <= n {
            var a0 = V(), a1 = V(), a2 = V(), a3 = V()
            var row = b + j
            for i in 0..<k {
                let xi = V(repeating: x[i])
                a0 = fused(a0, xi, load(row))
                a1 = fused(a1, xi, load(row + 8))
                a2 = fused(a2, xi, load(row + 16))
                a3 = fused(a3, xi, load(row + 24))
                row += ldb
            }
            finish(a0, alpha: alpha, beta: beta, y + j)
            finish(a1, alpha: alpha, beta: beta, y + j + 8)
            finish(a2, alpha: alpha, beta: beta, y + j + 16)
            finish(a3, alpha: alpha, beta: beta, y + j + 24)
            j += 32
        }
        while j + 8 <= n {
            var a0 = V()
            var row = b + j
            for i in 0..<k {
                a0 = fused(a0, V(repeating: x[i]), load(row))
                row += ldb
            }
            finish(a0, alpha: alpha, beta: beta, y + j)
            j += 8
        }
        while j < n {
            var s: Float = 0
            for i in 0..<k { s += x[i] * b[i * ldb + j] }
            y[j] = alpha * s + (beta == 0 ? 0 : beta * y[j])
            j += 1
        }
    }

    @inline(__always)
    private static func finish(_ acc: V, alpha: Float, beta: Float, _ y: UnsafeMutablePointer<Float>) {
        // beta = 0 must not read y: it may hold NaN from an earlier use of the buffer.
        store(beta == 0 ? alpha * acc : alpha * acc + beta * load(y), y)
    }

    /// `y = alpha·(B·x) + beta·y` with `B` row-major `n x k` (leading dimension `ldb`) and
    /// `x` of length `k`: one dot product per row, four rows at a time.
    static func matrixVector(
        n: Int, k: Int, alpha: Float, b: UnsafePointer<Float>, ldb: Int, x: UnsafePointer<Float>, beta: Float,
        y: UnsafeMutablePointer<Float>
    ) {
        if k * n >= parallelThreshold, n >= 8 {
            let half = n / 2
            nonisolated(unsafe) let (x, b, y) = (x, b, y)
            DispatchQueue.concurrentPerform(iterations: 2) { part in
                let start = part == 0 ? 0 : half
                rows(
                    n: part == 0 ? half : n - half, k: k, alpha: alpha, b: b + start * ldb, ldb: ldb, x: x,
                    beta: beta, y: y + start)
            }
        } else {
            rows(n: n, k: k, alpha: alpha, b: b, ldb: ldb, x: x, beta: beta, y: y)
        }
    }

    private static func rows(
        n: Int, k: Int, alpha: Float, b: UnsafePointer<Float>, ldb: Int, x: UnsafePointer<Float>, beta: Float,
        y: UnsafeMutablePointer<Float>
    ) {
        let wide = k & ~7
        var r = 0
        while r < n {
            let count = min(4, n - r)
            var acc = (V(), V(), V(), V())
            var sums: (Float, Float, Float, Float) = (0, 0, 0, 0)
            var i = 0
            while i < wide {
                let xv = load(x + i)
                acc.0 = fused(acc.0, xv, load(b + r * ldb + i))
                if count > 1 { acc.1 = fused(acc.1, xv, load(b + (r + 1) * ldb + i)) }
                if count > 2 { acc.2 = fused(acc.2, xv, load(b + (r + 2) * ldb + i)) }
                if count > 3 { acc.3 = fused(acc.3, xv, load(b + (r + 3) * ldb + i)) }
                i += 8
            }
            sums = (acc.0.sum(), acc.1.sum(), acc.2.sum(), acc.3.sum())
            while i < k {
                sums.0 += b[r * ldb + i] * x[i]
                if count > 1 { sums.1 += b[(r + 1) * ldb + i] * x[i] }
                if count > 2 { sums.2 += b[(r + 2) * ldb + i] * x[i] }
                if count > 3 { sums.3 += b[(r + 3) * ldb + i] * x[i] }
                i += 1
            }
            withUnsafeBytes(of: sums) { raw in
                for q in 0..<count {
                    let s = raw.load(fromByteOffset: q * MemoryLayout<Float>.stride, as: Float.self)
                    y[r + q] = alpha * s + (beta == 0 ? 0 : beta * y[r + q])
                }
            }
            r += 4
        }
    }
}
