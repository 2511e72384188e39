import RNNKernels

extension SampleDraw {
    /// Picks the next token from `logits`: argmax, or a draw from the
    /// tempered softmax restricted by top-k and top-p.
    func draw(_ logits: UnsafePointer<Float>) -> Int32 {
        let v = probabilities.count
        let kernels = Kernels.table.pointee
        if options.argmax {
            _ = kernels.draw_weights(v, logits, 1, nil, &fingerprint)
            var best = 0
            for j in 1..<v where logits[j] > logits[best] { best = j }
            return Int32(best)
        }
        let k = options.topK ?? 0
        let restrict = (k > 0 && k < v) || (options.topP.map { $0 < 1 } ?? false)
        return probabilities.withUnsafeMutableBufferPointer { p in
            // One pass in the kernels: Swift's loops (compiled for SSE2) took the maximum, the
            // sum and the fingerprint one element after another, 7% of a batch's step.
            let total = kernels.draw_weights(v, logits, 1 / options.temperature, p.baseAddress!, &fingerprint)
            guard restrict else { return pick(p, total: total, generator: &generator) }
            return order.withUnsafeMutableBufferPointer { o in
                for j in 0..<v { o[j] = Int32(j) }
                Self.sortDescending(o, by: p)
                var keep = k > 0 ? Swift.min(k, v) : v
                if let topP = options.topP, topP < 1 {
                    var cumulative: Float = 0
                    for rank in 0..<keep {
                        cumulative += p[Int(o[rank])] / total
                        if cumulative >= topP {
                            keep = rank + 1
                            break
                        }
                    }
                }
                var kept: Float = 0
                for rank in 0..<keep { kept += p[Int(o[rank])] }
                var u = generator.nextUnitFloat() * kept
                for rank in 0..<keep {
                    u -= p[Int(o[rank])]
                    if u < 0 { return o[rank] }
                }
                return o[keep - 1]
            }
        }
    }

    /// A draw proportional to `p` (which sums to `total`).
    private func pick(_ p: UnsafeMutableBufferPointer<Float>, total: Float, generator: inout RandomGenerator) -> Int32 {
        var u = generator.nextUnitFloat() * total
        var last = 0
        for j in 0..<p.count where p[j] > 0 {
            u -= p[j]
            last = j
            if u < 0 { return Int32(j) }
        }
        return Int32(last)
    }

    /// In-place heap sort of `indices` by descending `keys[index]`; allocates nothing.
    static func sortDescending(_ indices: UnsafeMutableBufferPointer<Int32>, by keys: UnsafeMutableBufferPointer<Float>)
    {
        let n = indices.count
        // A min-heap on keys, so that popping to the back leaves the largest keys in front.
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while 2 * root + 1 < end {
                var child = 2 * root + 1
                if child + 1 < end, keys[Int(indices[child + 1])] < keys[Int(indices[child])] { child += 1 }
                if keys[Int(indices[child])] < keys[Int(indices[root])] {
                    indices.swapAt(root, child)
                    root = child
                } else {
                    return
                }
            }
        }
        for start in stride(from: n / 2 - 1, through: 0, by: -1) { siftDown(start, n) }
        for end in stride(from: n - 1, to: 0, by: -1) {
            indices.swapAt(0, end)
            siftDown(0, end)
        }
    }
}
