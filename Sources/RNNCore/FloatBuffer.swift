import RNNKernels

/// A fixed-size, zero-initialised scratch buffer owned by one workspace and freed with it.
///
/// Workspaces allocate these once per shape so that nothing is allocated inside step loops.
final class FloatBuffer {
    /// The first element.
    let base: UnsafeMutablePointer<Float>
    /// Number of elements.
    let count: Int

    init(_ count: Int) {
        self.count = count
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { base.deallocate() }

    /// The element at `offset`, as a pointer.
    @inline(__always) subscript(offset: Int) -> UnsafeMutablePointer<Float> { base + offset }

    /// Sets every element to zero.
    func zero() { rk_zero_floats(base, count) }
}
