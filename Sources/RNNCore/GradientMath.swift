/// Whole-gradient operations: norm and clipping.
public enum GradientMath {
    /// The L2 norm of `values`, accumulated in Double; NaN or infinite if any element is.
    public static func norm(_ values: [Float]) -> Double {
        values.withUnsafeBufferPointer { v in
            // Four Double lanes (a float's square is exact in Double), then the tail.
            var lanes = SIMD4<Double>()
            var i = 0
            while i + 4 <= v.count {
                let x = SIMD4<Double>(Double(v[i]), Double(v[i + 1]), Double(v[i + 2]), Double(v[i + 3]))
                lanes += x * x
                i += 4
            }
            var sum = lanes.sum()
            while i < v.count {
                sum += Double(v[i]) * Double(v[i])
                i += 1
            }
            return sum.squareRoot()
        }
    }

    /// Clips `gradients` in place; `norm` is their L2 norm, already computed.
    public static func clip(_ gradients: inout [Float], _ clipping: GradientClipping, norm: Double) {
        switch clipping {
        case .none:
            break
        case .value(let limit):
            gradients.withUnsafeMutableBufferPointer { g in
                for i in g.indices { g[i] = min(max(g[i], -limit), limit) }
            }
        case .norm(let maxNorm):
            // PyTorch's clip_grad_norm_: scale by maxNorm / (norm + 1e-6) when that is below 1.
            let factor = Float(Double(maxNorm) / (norm + 1e-6))
            guard factor < 1 else { return }
            gradients.withUnsafeMutableBufferPointer { g in
                for i in g.indices { g[i] *= factor }
            }
        }
    }
}
