import RNNKernels

/// Matrix-vector products for one row (batch 1: sampling, the seed's RNN), in the active
/// kernel path.
///
/// A GEMM with one row still packs its operands; at batch 1 that costs more than the
/// arithmetic. These run on the calling thread (on the kernel pool's threads for products
/// of a million weights or more, which are bound by memory bandwidth, not arithmetic).
enum VectorProducts {
    /// Products with at least this many weights are split across two threads.
    static let parallelThreshold = 1 << 20

    /// `y = alpha·(x·B) + beta·y` with `x` of length `k` and `B` row-major `k x n` (leading
    /// dimension `ldb`).
    static func vectorMatrix(
        k: Int, n: Int, alpha: Float, x: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        y: UnsafeMutablePointer<Float>
    ) {
        let kernel = Kernels.table.pointee.vecmat!
        forEachColumnPart(k: k, n: n, split: true) { start, width in
            kernel(k, width, alpha, x, b + start, ldb, beta, y + start)
        }
    }

    /// Calls `body(start, width)` for the column parts of a `k x n` product: ``columnChunks``
    /// spread over the pool's threads for a million weights or more when `split`, else all
    /// columns at once. One-row and many-row products split alike, so a row's columns meet
    /// the same kernel code either way.
    private static func forEachColumnPart(k: Int, n: Int, split: Bool, _ body: (Int, Int) -> Void) {
        guard split, k * n >= parallelThreshold, n >= 64, BLAS.threadCount > 1 else {
            body(0, n)
            return
        }
        let chunks = columnChunks(k: k, n: n, threads: BLAS.threadCount)
        // The chunks write disjoint columns of y; the caller waits for all. A pool busy with
        // another caller runs every chunk on this thread: the same chunks, the same bits.
        Parallel.forEachItem(of: chunks.count) { body(chunks[$0].start, chunks[$0].width) }
    }

    /// The column chunks of a `k x n` product split for `threads` threads: 32-column aligned,
    /// the last taking the rest, as many as `threads` allows while every chunk takes the
    /// kernels' one-row path that the whole product takes. The kernels choose between their
    /// column and row paths by the size of what they are given, and the two round
    /// differently: a chunk small enough for the column path, of a product on the row path,
    /// would change a sample's text with the number of threads that ran it.
    static func columnChunks(k: Int, n: Int, threads: Int) -> [(start: Int, width: Int)] {
        let packs = Kernels.table.pointee.vecmat_packs!
        let whole = packs(k, n)
        for count in stride(from: max(threads, 1), to: 1, by: -1) {
            let chunks = (0..<count).map { Parallel.part($0, of: count, count: n, alignment: 32) }
                .filter { !$0.isEmpty }.map { (start: $0.lowerBound, width: $0.count) }
            if chunks.allSatisfy({ packs(k, $0.width) == whole }) { return chunks }
        }
        return [(0, n)]
    }

    /// `y_r = x_r·B + y_r` for `m` rows (`x` rows `ldx` apart, `y` rows `ldy` apart, `B`
    /// row-major `k x n`), each row exactly as ``vectorMatrix(k:n:alpha:x:b:ldb:beta:y:)``
    /// computes it alone. With `splitColumns`, a product of a million weights or more is
    /// split by the same columns as one row's is.
    static func vectorMatrixRows(
        m: Int, k: Int, n: Int, x: UnsafePointer<Float>, ldx: Int, b: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, ldy: Int, splitColumns: Bool
    ) {
        vectorMatrixRows(
            m: m, k: k, n: n, x: x, ldx: ldx, reduced: b, kernel: Kernels.table.pointee.vecmat_many!, y: y, ldy: ldy,
            splitColumns: splitColumns)
    }

    /// ``vectorMatrixRows(m:k:n:x:ldx:b:y:ldy:splitColumns:)`` with `B`'s elements of any
    /// type, multiplied by `kernel` (`vecmat_many` for floats; `vecmat_many_half` on a
    /// product on the kernels' row path, the same bits as over the elements widened to
    /// floats), by the same columns.
    static func vectorMatrixRows<Element>(
        m: Int, k: Int, n: Int, x: UnsafePointer<Float>, ldx: Int, reduced b: UnsafePointer<Element>,
        kernel: (
            Int, Int, Int, Float, UnsafePointer<Float>?, Int, UnsafePointer<Element>?, Int, Float,
            UnsafeMutablePointer<Float>?, Int
        ) -> Void,
        y: UnsafeMutablePointer<Float>, ldy: Int, splitColumns: Bool
    ) {
        forEachColumnPart(k: k, n: n, split: splitColumns) { start, width in
            kernel(m, k, width, 1, x, ldx, b + start, n, 1, y + start, ldy)
        }
    }

    /// `y_r = q_r·(x̂_r·B) + y_r` for `m` rows, `B` the bytes of a `k x n` matrix in groups of
    /// four rows (`int8_pack`) and `x̂_r` row `r` of `x` times `scales` rounded to bytes (see
    /// `vecmat_many_int8`), split by the same columns as
    /// ``vectorMatrixRows(m:k:n:x:ldx:b:y:ldy:splitColumns:)``; integer sums, so the same
    /// bits however it is split.
    static func int8Rows(
        m: Int, k: Int, n: Int, x: UnsafePointer<Float>, ldx: Int, scales: UnsafePointer<Float>,
        b: UnsafePointer<UInt32>, y: UnsafeMutablePointer<Float>, ldy: Int, splitColumns: Bool
    ) {
        let kernels = Kernels.table.pointee
        // The parts start at multiples of 32 columns, where the layout's blocks do.
        forEachColumnPart(k: k, n: n, split: splitColumns) { start, width in
            assert(start % 32 == 0, "an int8 column part starts inside a block of the layout")
            kernels.vecmat_many_int8!(
                m, k, width, 1, x, ldx, scales, b + kernels.int8_packed_size!(k, start), 1, y + start, ldy)
        }
    }

    /// `y = alpha·(B·x) + beta·y` with `B` row-major `n x k` (leading dimension `ldb`) and
    /// `x` of length `k`: one dot product per row, four rows at a time.
    static func matrixVector(
        n: Int, k: Int, alpha: Float, b: UnsafePointer<Float>, ldb: Int, x: UnsafePointer<Float>, beta: Float,
        y: UnsafeMutablePointer<Float>
    ) {
        let kernel = Kernels.table.pointee.matvec!
        forEachOutputPart(n: n, k: k, split: true) { start, rows in
            kernel(rows, k, alpha, b + start * ldb, ldb, x, beta, y + start)
        }
    }

    /// ``matrixVector(n:k:alpha:b:ldb:x:beta:y:)`` for `m` vectors `x_r` (`ldx` apart; `y_r`
    /// `ldy` apart), each output exactly as it computes it alone; split across the pool as it
    /// splits one when `split`.
    static func matrixVectorRows(
        m: Int, n: Int, k: Int, alpha: Float, b: UnsafePointer<Float>, ldb: Int, x: UnsafePointer<Float>, ldx: Int,
        beta: Float, y: UnsafeMutablePointer<Float>, ldy: Int, split: Bool
    ) {
        let kernel = Kernels.table.pointee.matvec_many!
        forEachOutputPart(n: n, k: k, split: split) { start, rows in
            kernel(m, rows, k, alpha, b + start * ldb, ldb, x, ldx, beta, y + start, ldy)
        }
    }

    /// Calls `body(start, rows)` for the output parts of an `n x k` matrix-vector product:
    /// one per thread for a million weights or more when `split`, else all outputs at once.
    /// Each output's arithmetic is its own, so the split never changes a bit.
    private static func forEachOutputPart(n: Int, k: Int, split: Bool, _ body: (Int, Int) -> Void) {
        guard split, k * n >= parallelThreshold, n >= 8, BLAS.threadCount > 1 else {
            body(0, n)
            return
        }
        Parallel.forEachPart { part, parts in
            let range = Parallel.part(part, of: parts, count: n)
            if !range.isEmpty { body(range.lowerBound, range.count) }
        }
    }
}
