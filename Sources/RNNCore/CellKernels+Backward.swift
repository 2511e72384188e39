import RNNKernels

extension CellKernels {
    /// tanh or ReLU RNN, one step back: `da = dh ∘ act'(a)`, written into `da`.
    ///
    /// `dh` is the full gradient on `h` (from above plus from step `t+1`).
    static func rnnBackward(
        relu: Bool, count: Int, h: UnsafePointer<Float>, dh: UnsafePointer<Float>, da: UnsafeMutablePointer<Float>
    ) {
        if relu {
            for i in 0..<count { da[i] = h[i] > 0 ? dh[i] : 0 }
        } else {
            for i in 0..<count { da[i] = dh[i] * (1 - h[i] * h[i]) }
        }
    }

    /// LSTM, one step back. Reads the activated gates in `gates`; updates `dc` in place from
    /// the gradient on `c_t` to the gradient on `c_{t−1}`; writes pre-activation gradients.
    static func lstmBackward(
        batch: Int, hidden: Int, gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
        tanhC: UnsafePointer<Float>, dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>,
        da: UnsafeMutablePointer<Float>
    ) {
        Kernels.table.pointee.lstm_backward(batch, hidden, gates, cPrev, tanhC, dh, dc, da)
    }

    /// GRU, one step back. Writes `dax` (gradient on the input part `a`) and `dgh` (gradient on
    /// `gh`, which differs in the `n` block by the factor `r`); `dhDirect` receives `dh ∘ z`,
    /// the part of the gradient on `hPrev` that bypasses `W_hh`.
    static func gruBackward(
        batch: Int, hidden: Int, gates: UnsafePointer<Float>, gh: UnsafePointer<Float>,
        hPrev: UnsafePointer<Float>, dh: UnsafePointer<Float>, dax: UnsafeMutablePointer<Float>,
        dgh: UnsafeMutablePointer<Float>, dhDirect: UnsafeMutablePointer<Float>
    ) {
        Kernels.table.pointee.gru_backward(batch, hidden, gates, gh, hPrev, dh, dax, dgh, dhDirect)
    }
}
