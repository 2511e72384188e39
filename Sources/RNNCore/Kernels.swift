import RNNKernels

/// An instruction-set path of the engine's kernels.
public enum KernelPath: String, CaseIterable, Sendable {
    /// SSE2 only: runs on every x86-64 (and is the generic code elsewhere).
    case portable
    /// AVX2 with FMA: Intel Haswell and later, AMD Zen and later.
    case avx2
    /// AVX-512 F/BW/DQ/VL: Intel Skylake-SP and later, AMD Zen 4 and later.
    case avx512

    var cValue: rk_path {
        switch self {
        case .portable: RK_PATH_PORTABLE
        case .avx2: RK_PATH_AVX2
        case .avx512: RK_PATH_AVX512
        }
    }
}

/// The kernels the engine runs on this CPU: chosen once from cpuid, or forced with the
/// environment variable `RNND_KERNELS=portable|avx2|avx512`.
public enum Kernels {
    /// The active table of kernels.
    @inline(__always)
    static var table: UnsafePointer<rk_kernels> { rk_active() }

    /// The kernels of `path` without switching the process to it; nil when this CPU cannot
    /// run it.
    static func table(for path: KernelPath) -> UnsafePointer<rk_kernels>? {
        rk_table_for(path.cValue)
    }

    /// The path in use.
    public static var path: KernelPath {
        switch rk_active_path() {
        case RK_PATH_AVX512: .avx512
        case RK_PATH_AVX2: .avx2
        default: .portable
        }
    }

    /// The paths this CPU can run, slowest first (computed once: cpuid traps to the
    /// hypervisor under virtualization, microseconds each).
    public static let supportedPaths: [KernelPath] = KernelPath.allCases.filter { rk_supported($0.cValue) != 0 }

    /// Switches every later kernel call to `path`; false when this CPU cannot run it.
    @discardableResult
    public static func select(_ path: KernelPath) -> Bool {
        rk_select(path.cValue) == 0
    }

    /// The CPU as cpuid names it, with its family, model and stepping.
    public static let cpuName = String(cString: rk_cpu_name())

    /// Why the path in use was chosen ("cpuid" or the `RNND_KERNELS` setting).
    public static var selectionReason: String { String(cString: rk_selection_reason()) }

    /// How int8 sampling multiplies its bytes: `vnni` (AVX-512 VNNI's `vpdpbusd`, the
    /// RNND_INT8_VNNI=off environment turns it off) or `widened` (to 16 bits, `pmaddwd`);
    /// the same sums either way.
    public static var int8Products: String { path == .avx512 && rk_int8_vnni() == 1 ? "vnni" : "widened" }

    /// One line for logs and benchmarks: CPU, kernel path and why, who runs the matrix
    /// products (with OpenBLAS's core, or why `RNND_GEMM=openblas` could not be honoured) and
    /// how int8 sampling multiplies.
    public static var summary: String {
        var gemm = BLAS.openBLASCore.map { "openblas (core \($0))" } ?? BLAS.backend.rawValue
        if let problem = BLAS.openBLASProblem { gemm += " (RNND_GEMM=openblas refused: \(problem))" }
        return "cpu=\"\(cpuName)\" kernels=\(path.rawValue) (\(selectionReason)) gemm=\(gemm) int8=\(int8Products)"
    }
}
