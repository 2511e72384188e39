import RNNKernels

#if canImport(Glibc)
    import Glibc
#endif

/// Allocation-free row-major single-precision products, on the engine's own kernels.
///
/// Every matrix is row-major and contiguous unless a leading dimension says otherwise.
/// OpenBLAS stays callable for side-by-side measurement (`RNND_GEMM=openblas`), loaded only
/// then, but is not the default: Debian 12's OpenBLAS 0.3.21 guesses the CPU from its model
/// number and runs generic SSE3 kernels on Xeons it does not know (see RNNCore's README).
public enum BLAS {
    /// Who computes the matrix-matrix products.
    public enum Backend: String, Sendable {
        /// The engine's kernels, in the path cpuid chose (``Kernels``).
        case kernels
        /// OpenBLAS's `cblas_sgemm`, for comparison only.
        case openBLAS = "openblas"
    }

    /// The backend, from `RNND_GEMM`: `kernels` unless it says `openblas` and OpenBLAS loads
    /// (``openBLASProblem`` says why it did not).
    public static let backend: Backend = {
        guard requestsOpenBLAS else { return .kernels }
        return rk_openblas_load() != 0 ? .openBLAS : .kernels
    }()

    /// Whether `RNND_GEMM` asks for OpenBLAS.
    static var requestsOpenBLAS: Bool {
        guard let value = getenv("RNND_GEMM") else { return false }
        return String(cString: value) == "openblas"
    }

    /// Whether OpenBLAS can be called here (loading it on first ask).
    public static var openBLASAvailable: Bool { rk_openblas_load() != 0 }

    /// Why `RNND_GEMM=openblas` fell back to the kernels (OpenBLAS did not load, and what to
    /// do); nil when it was not asked for or loaded.
    public static var openBLASProblem: String? {
        guard requestsOpenBLAS, let error = rk_openblas_error() else { return nil }
        return String(cString: error)
    }

    /// The core kernels OpenBLAS chose for this CPU (e.g. "Prescott"), when it is loaded.
    public static var openBLASCore: String? {
        guard backend == .openBLAS, let name = rk_openblas_core() else { return nil }
        return String(cString: name)
    }

    /// The number of threads a large product uses (the kernels' pool, and OpenBLAS's).
    public static var threadCount: Int {
        get { Int(rk_threads()) }
        set {
            rk_set_threads(Int32(max(1, newValue)))
            rk_openblas_set_threads(Int32(max(1, newValue)))
        }
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
        using backend: Backend = backend,
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
        if m == 1, !transposeA, k > 0, backend == .kernels {
            if transposeB {
                VectorProducts.matrixVector(n: n, k: k, alpha: alpha, b: b, ldb: ldb, x: a, beta: beta, y: c)
            } else {
                VectorProducts.vectorMatrix(k: k, n: n, alpha: alpha, x: a, b: b, ldb: ldb, beta: beta, y: c)
            }
            return
        }
        if backend == .openBLAS {
            rk_openblas_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        Kernels.table.pointee.sgemm(
            transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
}
