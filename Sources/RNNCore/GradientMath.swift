import RNNKernels

/// Whole-gradient operations: norm and clipping.
public enum GradientMath {
    /// The L2 norm of `values`, accumulated in Double; NaN or infinite if any element is.
    public static func norm(_ values: [Float]) -> Double {
        values.withUnsafeBufferPointer { v in
            guard let base = v.baseAddress else { return 0 }
            return Kernels.table.pointee.sum_squares(v.count, base).squareRoot()
        }
    }

    /// The L2 norm of `gradients` before clipping (as ``norm(_:)``), and `gradients` clipped
    /// in place (as ``clip(_:_:norm:)``); value clipping clamps in the norm's own pass.
    public static func normThenClip(_ gradients: inout [Float], _ clipping: GradientClipping) -> Double {
        guard case .value(let limit) = clipping else {
            let total = norm(gradients)
            clip(&gradients, clipping, norm: total)
            return total
        }
        return gradients.withUnsafeMutableBufferPointer { g in
            guard let base = g.baseAddress else { return 0 }
            return Kernels.table.pointee.sum_squares_then_clamp(g.count, limit, base).squareRoot()
        }
    }

    /// Clips `gradients` in place; `norm` is their L2 norm, already computed.
    public static func clip(_ gradients: inout [Float], _ clipping: GradientClipping, norm: Double) {
        switch clipping {
        case .none:
            break
        case .value(let limit):
            gradients.withUnsafeMutableBufferPointer { g in
                if let base = g.baseAddress { Kernels.table.pointee.clamp(g.count, limit, base) }
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
