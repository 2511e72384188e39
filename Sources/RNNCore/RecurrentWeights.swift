import RNNKernels

/// A layer's recurrent weights as the time steps use them: packed once per sequence for the
/// batched products (every step multiplies by the same matrix), read in place for one row.
struct RecurrentWeights {
    /// `W_hhᵀ` as stored: `H x G·H`.
    let stored: UnsafePointer<Float>
    /// Rows and columns of the stored matrix.
    let rows: Int
    let columns: Int
    /// The packed operand (of `W_hhᵀ` forward, of `W_hh` backward), or nil for batch 1.
    let packed: UnsafePointer<Float>?
    /// Whether products use `W_hh` (the backward pass) rather than `W_hhᵀ`.
    let transposed: Bool

    /// `c = a·op(W) + beta·c` for `m` rows of `a`; on the calling thread when packed.
    @inline(__always)
    func multiply(m: Int, _ a: UnsafePointer<Float>, beta: Float = 0, _ c: UnsafeMutablePointer<Float>) {
        let (k, n) = transposed ? (columns, rows) : (rows, columns)
        if let packed, m > 1 {
            Kernels.table.pointee.sgemm_packed(0, m, n, k, 1, a, k, packed, beta, c, n)
        } else {
            BLAS.gemm(transposeB: transposed, m: m, n: n, k: k, a, stored, ldb: columns, beta: beta, c)
        }
    }
}

/// A grow-only buffer for packed weights, reused by every layer and step of a workspace.
final class PackedWeightsBuffer {
    private var storage: UnsafeMutablePointer<Float>?
    private var capacity = 0

    deinit { storage?.deallocate() }

    /// Packs `stored` (`rows x columns`) for products by it (`transposed`: by its transpose)
    /// when `batch` is more than one row; else returns weights read in place.
    func pack(
        _ stored: UnsafePointer<Float>, rows: Int, columns: Int, transposed: Bool, batch: Int
    ) -> RecurrentWeights {
        guard batch > 1 else {
            return RecurrentWeights(stored: stored, rows: rows, columns: columns, packed: nil, transposed: transposed)
        }
        let table = Kernels.table.pointee
        let (k, n) = transposed ? (columns, rows) : (rows, columns)
        let size = table.packed_size(k, n)
        if size > capacity {
            storage?.deallocate()
            storage = .allocate(capacity: size)
            capacity = size
        }
        table.pack(transposed ? 1 : 0, k, n, stored, columns, storage!)
        return RecurrentWeights(
            stored: stored, rows: rows, columns: columns, packed: UnsafePointer(storage!), transposed: transposed)
    }
}
