#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The few libm functions RNNCore needs, named once so kernels read as math.
@inline(__always) func _exp(_ x: Float) -> Float { expf(x) }
@inline(__always) func _exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _log(_ x: Float) -> Float { logf(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func _tanh(_ x: Float) -> Float { tanhf(x) }
@inline(__always) func _sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
