import RNNKernels

/// The per-time-step work of each cell, for `B` rows at once, on raw pointers: the
/// recurrent product, then the gates in one fused pass of the active kernel path.
///
/// Notation (one step, `B` rows, hidden `H`, `G` gates):
/// - `a`: `B x G·H`, on entry the input part `x·W_ihᵀ + b_ih` (plus `b_hh` for RNN and LSTM);
///   on exit the activated gates that the backward step reads (LSTM `i f g o`, GRU `r z n`).
/// - `hPrev`, `h`: `B x H`, the previous and new hidden state.
/// - `wh`: `W_hhᵀ` (stored `H x G·H`), packed for batched steps.
enum CellKernels {
    /// tanh or ReLU RNN: `h = act(a + hPrev·W_hhᵀ)`.
    static func rnnForward(
        relu: Bool, batch: Int, hidden: Int, a: UnsafeMutablePointer<Float>, hPrev: UnsafePointer<Float>,
        wh: RecurrentWeights, h: UnsafeMutablePointer<Float>
    ) {
        wh.multiply(m: batch, hPrev, beta: 1, a)
        let n = batch * hidden
        if relu {
            for i in 0..<n { h[i] = max(a[i], 0) }
        } else {
            VectorMath.tanh(a, h, count: n)
        }
    }

    /// LSTM: `i f g o = σ σ tanh σ (a + hPrev·W_hhᵀ)`, `c = f∘cPrev + i∘g`, `h = o∘tanh(c)`;
    /// by the quicker activations of `lstm_forward_quick` when `quickGates` (sampling and
    /// training; evaluation keeps the exact ones).
    static func lstmForward(
        batch: Int, hidden: Int, a: UnsafeMutablePointer<Float>, hPrev: UnsafePointer<Float>,
        cPrev: UnsafePointer<Float>, wh: RecurrentWeights, h: UnsafeMutablePointer<Float>,
        c: UnsafeMutablePointer<Float>, tanhC: UnsafeMutablePointer<Float>, quickGates: Bool = false
    ) {
        wh.multiply(m: batch, hPrev, beta: 1, a)
        let kernels = Kernels.table.pointee
        (quickGates ? kernels.lstm_forward_quick : kernels.lstm_forward)(batch, hidden, a, cPrev, c, tanhC, h)
    }

    /// GRU (PyTorch's form): `gh = hPrev·W_hhᵀ + b_hh`; `r = σ(a_r + gh_r)`, `z = σ(a_z + gh_z)`,
    /// `n = tanh(a_n + r∘gh_n)`, `h = (1 − z)∘n + z∘hPrev`. `gh` is kept for the backward step.
    static func gruForward(
        batch: Int, hidden: Int, a: UnsafeMutablePointer<Float>, gh: UnsafeMutablePointer<Float>,
        hPrev: UnsafePointer<Float>, wh: RecurrentWeights, bh: UnsafePointer<Float>,
        h: UnsafeMutablePointer<Float>
    ) {
        let width = 3 * hidden
        for b in 0..<batch { (gh + b * width).update(from: bh, count: width) }
        wh.multiply(m: batch, hPrev, beta: 1, gh)
        Kernels.table.pointee.gru_forward(batch, hidden, a, gh, hPrev, h)
    }
}
