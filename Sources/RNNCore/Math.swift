#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The few libm functions RNNCore needs outside the SIMD kernels (VectorMath).
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _log(_ x: Float) -> Float { logf(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func _exp(_ x: Float) -> Float { expf(x) }
