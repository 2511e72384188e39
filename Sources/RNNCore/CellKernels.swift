/// The per-time-step work of each cell, for `B` rows at once, on raw pointers.
///
/// Notation (one step, `B` rows, hidden `H`, `G` gates):
/// - `a`: `B x G·H`, on entry the input part `x·W_ihᵀ + b_ih` (plus `b_hh` for RNN and LSTM);
///   on exit the activated gates that the backward step reads (LSTM `i f g o`, GRU `r z n`).
/// - `hPrev`, `h`: `B x H`, the previous and new hidden state.
/// - `wh`: `W_hhᵀ` stored `H x G·H`.
enum CellKernels {
    /// tanh or ReLU RNN: `h = act(a + hPrev·W_hhᵀ)`.
    static func rnnForward(
        relu: Bool, batch: Int, hidden: Int, a: UnsafeMutablePointer<Float>, hPrev: UnsafePointer<Float>,
        wh: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>
    ) {
        BLAS.gemm(m: batch, n: hidden, k: hidden, hPrev, wh, beta: 1, a)
        let n = batch * hidden
        if relu {
            for i in 0..<n { h[i] = max(a[i], 0) }
        } else {
            for i in 0..<n { h[i] = _tanh(a[i]) }
        }
    }

    /// LSTM: `i f g o = σ σ tanh σ (a + hPrev·W_hhᵀ)`, `c = f∘cPrev + i∘g`, `h = o∘tanh(c)`.
    static func lstmForward(
        batch: Int, hidden: Int, a: UnsafeMutablePointer<Float>, hPrev: UnsafePointer<Float>,
        cPrev: UnsafePointer<Float>, wh: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
        c: UnsafeMutablePointer<Float>, tanhC: UnsafeMutablePointer<Float>
    ) {
        let gh = 4 * hidden
        BLAS.gemm(m: batch, n: gh, k: hidden, hPrev, wh, beta: 1, a)
        for b in 0..<batch {
            let row = a + b * gh
            let s = b * hidden
            for j in 0..<hidden {
                let i = _sigmoid(row[j])
                let f = _sigmoid(row[hidden + j])
                let g = _tanh(row[2 * hidden + j])
                let o = _sigmoid(row[3 * hidden + j])
                row[j] = i
                row[hidden + j] = f
                row[2 * hidden + j] = g
                row[3 * hidden + j] = o
                let cNew = f * cPrev[s + j] + i * g
                let t = _tanh(cNew)
                c[s + j] = cNew
                tanhC[s + j] = t
                h[s + j] = o * t
            }
        }
    }

    /// GRU (PyTorch's form): `gh = hPrev·W_hhᵀ + b_hh`; `r = σ(a_r + gh_r)`, `z = σ(a_z + gh_z)`,
    /// `n = tanh(a_n + r∘gh_n)`, `h = (1 − z)∘n + z∘hPrev`. `gh` is kept for the backward step.
    static func gruForward(
        batch: Int, hidden: Int, a: UnsafeMutablePointer<Float>, gh: UnsafeMutablePointer<Float>,
        hPrev: UnsafePointer<Float>, wh: UnsafePointer<Float>, bh: UnsafePointer<Float>,
        h: UnsafeMutablePointer<Float>
    ) {
        let width = 3 * hidden
        for b in 0..<batch { (gh + b * width).update(from: bh, count: width) }
        BLAS.gemm(m: batch, n: width, k: hidden, hPrev, wh, beta: 1, gh)
        for b in 0..<batch {
            let row = a + b * width
            let hrow = gh + b * width
            let s = b * hidden
            for j in 0..<hidden {
                let r = _sigmoid(row[j] + hrow[j])
                let z = _sigmoid(row[hidden + j] + hrow[hidden + j])
                let n = _tanh(row[2 * hidden + j] + r * hrow[2 * hidden + j])
                row[j] = r
                row[hidden + j] = z
                row[2 * hidden + j] = n
                h[s + j] = (1 - z) * n + z * hPrev[s + j]
            }
        }
    }
}
