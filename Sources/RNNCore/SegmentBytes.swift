import RNNKernels

/// An int8 matrix's bytes for each segment of a ``UnitSplit``: the segment's regrouped
/// columns laid out by `int8_pack`, one segment after another, and the rows' scales.
final class SegmentBytes {
    /// What a step reads.
    struct Step {
        let groups: UnsafePointer<UInt32>
        /// 32-bit elements per segment.
        let perSegment: Int
        let scales: UnsafePointer<Float>
    }

    private let matrix: ReducedMatrix
    private let groups: UnsafeMutablePointer<UInt32>
    let step: Step

    /// `matrix`'s bytes, column `c` of segment `s` (of `columns`) taken from `source[s·columns + c]`.
    init(_ matrix: ReducedMatrix, segments: Int, columns: Int, source: [Int]) {
        let kernels = Kernels.table.pointee
        let (rows, width) = (matrix.rows, matrix.columns)
        let bytes = matrix.bytes()
        let perSegment = kernels.int8_packed_size(rows, columns)
        groups = .allocate(capacity: segments * perSegment)
        var regrouped = [Int8](repeating: 0, count: rows * columns)
        for s in 0..<segments {
            for r in 0..<rows {
                for c in 0..<columns { regrouped[r * columns + c] = bytes[r * width + source[s * columns + c]] }
            }
            kernels.int8_pack(rows, columns, regrouped, columns, groups + s * perSegment)
        }
        self.matrix = matrix
        step = Step(groups: UnsafePointer(groups), perSegment: perSegment, scales: UnsafePointer(matrix.scales!))
    }

    deinit { groups.deallocate() }
}
