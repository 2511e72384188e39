import RNNKernels

extension SequenceWorkspace {
    /// Runs the model over `inputs` (`T·B` token indices, time-major) from the loaded state,
    /// leaving logits in ``logits``.
    ///
    /// - Parameters:
    ///   - p: the parameter buffer, laid out by ``layout``.
    ///   - dropout: draws the dropout masks; nil runs without dropout (evaluation, sampling).
    func forward(
        parameters p: UnsafePointer<Float>, inputs: UnsafePointer<Int32>, dropout: inout RandomGenerator?
    ) {
        let h = configuration.hiddenSize
        let rows = steps * batch
        if let embedding = layout.embedding, let embedded {
            let e = configuration.embeddingSize
            for r in 0..<rows {
                (embedded.base + r * e).update(from: p + embedding.offset + Int(inputs[r]) * e, count: e)
            }
        }
        for l in 0..<configuration.layers {
            projectInput(layer: l, parameters: p, inputs: inputs)
            runRecurrence(layer: l, parameters: p)
            if let mask = layers[l].dropoutMask, let dropped = layers[l].dropped, dropout != nil {
                let keep = 1 - configuration.dropout
                Kernels.table.pointee.dropout(
                    rows * h, keep, 1 / keep, dropout!.next(), layers[l].hidden[batch * h], mask.base, dropped.base)
            } else if let dropped = layers[l].dropped {
                dropped.base.update(from: layers[l].hidden[batch * h], count: rows * h)
                layers[l].dropoutMask?.base.update(repeating: 1, count: rows * h)
            }
        }
        decode(parameters: p)
    }

    /// Fills a layer's `gates` with `x·W_ihᵀ + b_ih` (+ `b_hh` except for GRU) for all steps:
    /// one product for the whole sequence, or a row gather for one-hot input.
    private func projectInput(layer l: Int, parameters p: UnsafePointer<Float>, inputs: UnsafePointer<Int32>) {
        let offsets = layout.layers[l]
        let width = configuration.architecture.gateCount * configuration.hiddenSize
        let rows = steps * batch
        let gates = layers[l].gates.base
        rowBias.base.update(from: p + offsets.inputBias, count: width)
        if configuration.architecture != .gru {
            for j in 0..<width { rowBias.base[j] += p[offsets.hiddenBias + j] }
        }
        let bias = UnsafePointer(rowBias.base)
        if let input = layerInput(l) {
            Parallel.forEachRange(of: rows, elements: rows * width) { part in
                for r in part { (gates + r * width).update(from: bias, count: width) }
            }
            BLAS.gemm(m: rows, n: width, k: offsets.inputSize, input, p + offsets.inputWeights, beta: 1, gates)
        } else {
            Parallel.forEachRange(of: rows, elements: rows * width) { part in
                for r in part {
                    let row = gates + r * width
                    let w = p + offsets.inputWeights + Int(inputs[r]) * width
                    for j in 0..<width { row[j] = w[j] + bias[j] }
                }
            }
        }
    }

    /// Steps one layer through time. The streams are independent, so each thread of the
    /// kernel pool runs its own rows through every step, with no waiting between steps.
    private func runRecurrence(layer l: Int, parameters p: UnsafePointer<Float>) {
        let offsets = layout.layers[l]
        let buffers = layers[l]
        let h = configuration.hiddenSize
        let width = configuration.architecture.gateCount * h
        let stateStride = batch * h
        let wh = packedWeights.pack(
            p + offsets.hiddenWeights, rows: h, columns: width, transposed: false, batch: batch)
        let architecture = configuration.architecture
        let quickGates = quickGates
        Parallel.forEachRange(of: batch) { rows in
            let (r0, n) = (rows.lowerBound, rows.count)
            for t in 0..<steps {
                let a = buffers.gates[(t * batch + r0) * width]
                let hPrev = buffers.hidden[t * stateStride + r0 * h]
                let hNext = buffers.hidden[(t + 1) * stateStride + r0 * h]
                switch architecture {
                case .rnnTanh, .rnnReLU:
                    CellKernels.rnnForward(
                        relu: architecture == .rnnReLU, batch: n, hidden: h, a: a, hPrev: hPrev, wh: wh, h: hNext)
                case .lstm:
                    CellKernels.lstmForward(
                        batch: n, hidden: h, a: a, hPrev: hPrev, cPrev: buffers.cell![t * stateStride + r0 * h],
                        wh: wh, h: hNext, c: buffers.cell![(t + 1) * stateStride + r0 * h],
                        tanhC: buffers.tanhCell![t * stateStride + r0 * h], quickGates: quickGates)
                case .gru:
                    CellKernels.gruForward(
                        batch: n, hidden: h, a: a, gh: buffers.hiddenPart![(t * batch + r0) * width], hPrev: hPrev,
                        wh: wh, bh: p + offsets.hiddenBias, h: hNext)
                }
            }
        }
    }

    /// `logits = top·W_outᵀ + b_out` for every row.
    private func decode(parameters p: UnsafePointer<Float>) {
        let v = configuration.vocabularySize
        let h = configuration.hiddenSize
        let rows = steps * batch
        let bias = p + layout.decoderBias
        for r in 0..<rows { logits[r * v].update(from: bias, count: v) }
        BLAS.gemm(
            transposeB: true, m: rows, n: v, k: h, topOutput, p + layout.decoderWeight, beta: 1, logits.base)
    }
}
