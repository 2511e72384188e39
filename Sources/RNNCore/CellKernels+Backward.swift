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
        let gh = 4 * hidden
        for b in 0..<batch {
            let g = gates + b * gh
            let d = da + b * gh
            let s = b * hidden
            for j in 0..<hidden {
                let i = g[j], f = g[hidden + j], gg = g[2 * hidden + j], o = g[3 * hidden + j]
                let t = tanhC[s + j]
                let dhj = dh[s + j]
                let dcj = dc[s + j] + dhj * o * (1 - t * t)
                d[j] = dcj * gg * i * (1 - i)
                d[hidden + j] = dcj * cPrev[s + j] * f * (1 - f)
                d[2 * hidden + j] = dcj * i * (1 - gg * gg)
                d[3 * hidden + j] = dhj * t * o * (1 - o)
                dc[s + j] = dcj * f
            }
        }
    }

    /// GRU, one step back. Writes `dax` (gradient on the input part `a`) and `dgh` (gradient on
    /// `gh`, which differs in the `n` block by the factor `r`); `dhDirect` receives `dh ∘ z`,
    /// the part of the gradient on `hPrev` that bypasses `W_hh`.
    static func gruBackward(
        batch: Int, hidden: Int, gates: UnsafePointer<Float>, gh: UnsafePointer<Float>,
        hPrev: UnsafePointer<Float>, dh: UnsafePointer<Float>, dax: UnsafeMutablePointer<Float>,
        dgh: UnsafeMutablePointer<Float>, dhDirect: UnsafeMutablePointer<Float>
    ) {
        let width = 3 * hidden
        for b in 0..<batch {
            let g = gates + b * width
            let hn = gh + b * width + 2 * hidden
            let dx = dax + b * width
            let dhh = dgh + b * width
            let s = b * hidden
            for j in 0..<hidden {
                let r = g[j], z = g[hidden + j], n = g[2 * hidden + j]
                let dhj = dh[s + j]
                let dn = dhj * (1 - z) * (1 - n * n)
                let dz = dhj * (hPrev[s + j] - n) * z * (1 - z)
                let dr = dn * hn[j] * r * (1 - r)
                dx[j] = dr
                dx[hidden + j] = dz
                dx[2 * hidden + j] = dn
                dhh[j] = dr
                dhh[hidden + j] = dz
                dhh[2 * hidden + j] = dn * r
                dhDirect[s + j] = dhj * z
            }
        }
    }
}
