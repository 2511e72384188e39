import CBLAS

/// Thin, allocation-free wrappers over OpenBLAS for row-major single-precision products.
///
/// Every matrix is row-major and contiguous unless a leading dimension says otherwise.
public enum BLAS {
    /// The number of threads OpenBLAS uses for each product.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// `C = alpha * op(A) * op(B) + beta * C`, all row-major. One row (`m = 1`) runs as a
    /// matrix-vector product in ``VectorProducts`` instead.
    ///
    /// - Parameters:
    ///   - transposeA: use `Aᵀ`; `A` is then stored `k x m`.
    ///   - transposeB: use `Bᵀ`; `B` is then stored `n x k`.
    ///   - m: rows of `op(A)` and `C`.
    ///   - n: columns of `op(B)` and `C`.
    ///   - k: the shared dimension.
    @inline(__always)
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        _ a: UnsafePointer<Float>, lda: Int? = nil,
        _ b: UnsafePointer<Float>, ldb: Int? = nil,
        beta: Float = 0,
        _ c: UnsafeMutablePointer<Float>, ldc: Int? = nil
    ) {
        if m == 0 || n == 0 { return }
        let lda = lda ?? (transposeA ? m : k)
        let ldb = ldb ?? (transposeB ? k : n)
        let ldc = ldc ?? n
        if m == 1, !transposeA, k > 0 {
            if transposeB {
                VectorProducts.matrixVector(n: n, k: k, alpha: alpha, b: b, ldb: ldb, x: a, beta: beta, y: c)
            } else {
                VectorProducts.vectorMatrix(k: k, n: n, alpha: alpha, x: a, b: b, ldb: ldb, beta: beta, y: c)
            }
            return
        }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
    }

    /// `y = alpha * op(A) * x + beta * y` with `A` row-major `rows x columns`.
    @inline(__always)
    public static func gemv(
        transpose: Bool = false, rows: Int, columns: Int,
        alpha: Float = 1,
        _ a: UnsafePointer<Float>, lda: Int? = nil,
        _ x: UnsafePointer<Float>,
        beta: Float = 0,
        _ y: UnsafeMutablePointer<Float>
    ) {
        if rows == 0 || columns == 0 { return }
        cblas_sgemv(
            CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
            Int32(rows), Int32(columns), alpha, a, Int32(lda ?? columns), x, 1, beta, y, 1)
    }
}
