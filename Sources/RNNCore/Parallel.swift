import RNNKernels

/// Work split across the kernel pool's threads (``BLAS/threadCount``), the caller taking
/// part 0. A part that runs products runs them on its own thread alone.
enum Parallel {
    /// Streams per part below which a batch is not split: fewer rows than a micro-tile's
    /// would leave the products' vector units idle.
    static let minimumRows = 12

    /// Calls `body(part, parts)` for every part at once and returns when all are done.
    static func forEachPart(_ body: (Int, Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            var context = escapable
            withUnsafeMutablePointer(to: &context) { pointer in
                rk_parallel(
                    { raw, part, parts in
                        raw!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(Int(part), Int(parts))
                    }, pointer)
            }
        }
    }

    /// Calls `body(item)` for every item of `0..<count`, the items dealt to the pool's threads
    /// in turn (all to this thread when the pool is busy), and returns when all are done.
    /// What an item computes must not depend on which thread runs it.
    static func forEachItem(of count: Int, _ body: (Int) -> Void) {
        forEachPart { part, parts in
            for item in stride(from: part, to: count, by: parts) { body(item) }
        }
    }

    /// Calls `body(rows)` for contiguous ranges of `0..<count` at once, one per thread, when
    /// each range would have at least `minimumRows` rows (by default ``minimumRows``, for
    /// products) and all of them at least `elements` (rows times columns, for elementwise
    /// work: ``minimumSplitWork``); else once for all rows.
    static func forEachRange(
        of count: Int, minimumRows: Int = minimumRows, elements: Int = .max, _ body: (Range<Int>) -> Void
    ) {
        guard count >= 2 * minimumRows, elements >= minimumSplitWork, BLAS.threadCount > 1 else {
            body(0..<count)
            return
        }
        forEachPart { part, parts in
            let parts = min(parts, count / minimumRows)
            guard part < parts else { return }
            let range = Self.part(part, of: parts, count: count)
            if !range.isEmpty { body(range) }
        }
    }

    /// Part `part` of `parts` of `0..<count`: `count / parts` rounded up to a multiple of
    /// `alignment` per part, the last part taking the rest (parts past the end are empty).
    /// Every way the pool splits a range goes through here.
    static func part(_ part: Int, of parts: Int, count: Int, alignment: Int = 1) -> Range<Int> {
        let per = (count / parts + alignment - 1) / alignment * alignment
        let start = min(count, part * per)
        return start..<(part == parts - 1 ? count : min(count, start + per))
    }

    /// Elements below which an elementwise split stays on one thread (waking a helper costs
    /// more: the seed's 25 x 100 steps ran 5-9% slower split).
    static let minimumSplitWork = 1 << 16

    /// Calls `body(columns)` for ranges of `0..<count` columns at once, one per thread, each
    /// a multiple of 64 columns but the last (whole cache lines and vectors), when `rows`
    /// rows of them are worth splitting; else once for all columns.
    static func forEachColumnRange(of count: Int, rows: Int, _ body: (Range<Int>) -> Void) {
        guard count * rows >= minimumSplitWork, count >= 128, BLAS.threadCount > 1 else {
            body(0..<count)
            return
        }
        forEachPart { part, parts in
            let range = Self.part(part, of: parts, count: count, alignment: 64)
            if !range.isEmpty { body(range) }
        }
    }
}

/// A meeting point for the parts of one ``Parallel/forEachPart(_:)``, owned here and passed
/// to the parts as the raw ``state`` they give `rk_barrier_wait` (a part touches no
/// reference-counted object).
final class PartBarrier: @unchecked Sendable {  // its one field is touched by atomics only
    let state = UnsafeMutablePointer<rk_barrier>.allocate(capacity: 1)

    init() { state.initialize(to: rk_barrier(arrived: 0, round: 0)) }

    deinit { state.deallocate() }
}
