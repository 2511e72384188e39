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
            VectorMath.tanh(a, h, count: n)
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
            VectorMath.sigmoid(row, row, count: 2 * hidden)
            VectorMath.tanh(row + 2 * hidden, row + 2 * hidden, count: hidden)
            VectorMath.sigmoid(row + 3 * hidden, row + 3 * hidden, count: hidden)
            for j in 0..<hidden {
                c[s + j] = row[hidden + j] * cPrev[s + j] + row[j] * row[2 * hidden + j]
            }
            VectorMath.tanh(c + s, tanhC + s, count: hidden)
            for j in 0..<hidden { h[s + j] = row[3 * hidden + j] * tanhC[s + j] }
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
            for j in 0..<(2 * hidden) { row[j] += hrow[j] }
            VectorMath.sigmoid(row, row, count: 2 * hidden)
            let n = row + 2 * hidden
            for j in 0..<hidden { n[j] += row[j] * hrow[2 * hidden + j] }
            VectorMath.tanh(n, n, count: hidden)
            for j in 0..<hidden {
                let z = row[hidden + j]
                h[s + j] = (1 - z) * n[j] + z * hPrev[s + j]
            }
        }
    }
}
