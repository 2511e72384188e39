import RNNKernels

extension SequenceWorkspace {
    /// Back-propagates the gradient on the logits (left in ``logits`` by the loss) through the
    /// decoder, every layer and every step, adding parameter gradients into `g`.
    ///
    /// Truncated BPTT: the gradient stops at the carried-in state.
    ///
    /// - Parameters:
    ///   - p: parameters, laid out by ``layout``.
    ///   - g: gradients with the same layout; added to, not overwritten.
    ///   - inputs: the `T·B` input tokens of the forward pass.
    func backward(
        parameters p: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>, inputs: UnsafePointer<Int32>
    ) {
        precondition(isTraining, "backward needs a training workspace")
        let v = configuration.vocabularySize
        let h = configuration.hiddenSize
        let rows = steps * batch
        let top = layers[layers.count - 1]
        // Decoder: dW_out += dLogitsᵀ·top, db_out += Σ dLogits, dTop = dLogits·W_out.
        BLAS.gemm(
            transposeA: true, m: v, n: h, k: rows, logits.base, topOutput, beta: 1, g + layout.decoderWeight)
        addColumnSums(logits.base, rows: rows, columns: v, into: g + layout.decoderBias)
        BLAS.gemm(m: rows, n: h, k: v, logits.base, p + layout.decoderWeight, top.outputGradient!.base)
        for l in stride(from: configuration.layers - 1, through: 0, by: -1) {
            backThroughTime(layer: l, parameters: p)
            accumulateLayerGradients(layer: l, parameters: p, gradients: g, inputs: inputs)
        }
    }

    /// Runs one layer's recurrence backwards, filling `gatesGradient` (and for GRU
    /// `hiddenPartGradient`) from `outputGradient`; each thread of the kernel pool takes its
    /// own streams through every step.
    private func backThroughTime(layer l: Int, parameters p: UnsafePointer<Float>) {
        let buffers = layers[l]
        let h = configuration.hiddenSize
        let width = configuration.architecture.gateCount * h
        let n = batch * h
        let wh = packedWeights.pack(
            p + layout.layers[l].hiddenWeights, rows: h, columns: width, transposed: true, batch: batch)
        let dOut = buffers.outputGradient!.base
        let da = buffers.gatesGradient!.base
        let architecture = configuration.architecture
        // Only GRU carries its direct part and product through `carried` (zero at the last step).
        if architecture == .gru { carriedGradient.zero() }
        buffers.cellGradient?.zero()
        Parallel.forEachRange(of: batch) { rows in
            let (r0, nb) = (rows.lowerBound, rows.count)
            let dh = hiddenGradient.base + r0 * h
            let carried = carriedGradient.base + r0 * h
            let dc = buffers.cellGradient.map { $0.base + r0 * h }
            // dh_t = dOut_t + da_{t+1}·W_hh: the output gradient copied in, the product added
            // by the kernel's beta instead of a second pass. For a product of one depth block
            // (G·H <= 256) that is the same single rounding as adding afterwards; deeper ones
            // add dOut after the first block's partial sum (the same sum, rounded otherwise).
            dh.update(from: dOut + ((steps - 1) * batch + r0) * h, count: nb * h)
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let row = t * batch + r0
                let dOutT = dOut + row * h
                let daT = da + row * width
                let state = t * n + r0 * h
                switch architecture {
                case .rnnTanh, .rnnReLU:
                    CellKernels.rnnBackward(
                        relu: architecture == .rnnReLU, count: nb * h, h: buffers.hidden[state + n], dh: dh, da: daT)
                case .lstm:
                    CellKernels.lstmBackward(
                        batch: nb, hidden: h, gates: buffers.gates[row * width], cPrev: buffers.cell![state],
                        tanhC: buffers.tanhCell![state], dh: dh, dc: dc!, da: daT)
                case .gru:
                    // The direct part and the product land in `carried` first, then add to
                    // the output gradient in that order.
                    if t < steps - 1 { for i in 0..<(nb * h) { dh[i] = dOutT[i] + carried[i] } }
                    let dgh = buffers.hiddenPartGradient![row * width]
                    CellKernels.gruBackward(
                        batch: nb, hidden: h, gates: buffers.gates[row * width],
                        gh: buffers.hiddenPart![row * width], hPrev: buffers.hidden[state], dh: dh, dax: daT, dgh: dgh,
                        dhDirect: carried)
                    if t > 0 { wh.multiply(m: nb, dgh, beta: 1, carried) }
                }
                if architecture != .gru, t > 0 {
                    dh.update(from: dOutT - batch * h, count: nb * h)
                    wh.multiply(m: nb, daT, beta: 1, dh)
                }
            }
        }
    }

    /// From a layer's gate gradients: `dW_hh`, the biases, `dW_ih`, and the gradient on the
    /// layer's input (the output gradient of the layer below, or the embedding gradient).
    private func accumulateLayerGradients(
        layer l: Int, parameters p: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>,
        inputs: UnsafePointer<Int32>
    ) {
        let offsets = layout.layers[l]
        let buffers = layers[l]
        let h = configuration.hiddenSize
        let width = configuration.architecture.gateCount * h
        let rows = steps * batch
        let da = buffers.gatesGradient!.base
        let dHiddenPart = buffers.hiddenPartGradient?.base ?? da
        // dW_hhᵀ += H_prevᵀ·dGH over all steps at once: rows 0..<T·B of `hidden` are h_{t−1}.
        BLAS.gemm(
            transposeA: true, m: h, n: width, k: rows, buffers.hidden.base, dHiddenPart, beta: 1,
            g + offsets.hiddenWeights)
        if buffers.hiddenPartGradient == nil {
            // Both biases take the same column sums (everything but GRU): sum once.
            rowBias.zero()
            addColumnSums(da, rows: rows, columns: width, into: rowBias.base)
            for j in 0..<width {
                g[offsets.hiddenBias + j] += rowBias.base[j]
                g[offsets.inputBias + j] += rowBias.base[j]
            }
        } else {
            addColumnSums(dHiddenPart, rows: rows, columns: width, into: g + offsets.hiddenBias)
            addColumnSums(da, rows: rows, columns: width, into: g + offsets.inputBias)
        }
        if let input = layerInput(l) {
            BLAS.gemm(
                transposeA: true, m: offsets.inputSize, n: width, k: rows, input, da, beta: 1,
                g + offsets.inputWeights)
        } else {
            // One-hot input: each step's gate gradient lands on its token's row of W_ih,
            // rows in order for every column.
            Parallel.forEachColumnRange(of: width, rows: rows) { range in
                for r in 0..<rows {
                    let dst = g + offsets.inputWeights + Int(inputs[r]) * width
                    let src = da + r * width
                    for j in range { dst[j] += src[j] }
                }
            }
        }
        if l > 0 {
            let below = layers[l - 1]
            let dx = below.outputGradient!.base
            BLAS.gemm(transposeB: true, m: rows, n: h, k: width, da, p + offsets.inputWeights, dx)
            if let mask = below.dropoutMask {
                rk_multiply_floats(dx, mask.base, rows * h)
            }
        } else if let embedding = layout.embedding, let dEmbedded = embeddedGradient {
            let e = configuration.embeddingSize
            BLAS.gemm(transposeB: true, m: rows, n: e, k: width, da, p + offsets.inputWeights, dEmbedded.base)
            for r in 0..<rows {
                let dst = g + embedding.offset + Int(inputs[r]) * e
                let src = dEmbedded.base + r * e
                for j in 0..<e { dst[j] += src[j] }
            }
        }
    }

    /// `out[j] += Σ_r m[r, j]`, the columns dealt to the pool's threads (each column sums
    /// its rows in order, whoever sums it).
    private func addColumnSums(
        _ m: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachColumnRange(of: columns, rows: rows) { range in
            Kernels.table.pointee.add_column_sums(
                rows, range.count, m + range.lowerBound, columns, out + range.lowerBound)
        }
    }
}
