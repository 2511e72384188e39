public import RNNCore

/// The worst relative error of `actual` against `expected`, each element's difference
/// scaled by `max(|expected|, floor · max|expected|)`: relative where values are large,
/// absolute against the tensor's scale where they are near zero (where float32 and float64
/// legitimately part ways).
public func worstRelativeError(_ actual: [Float], _ expected: [Float], floor: Float = 1e-3) -> Float {
    precondition(actual.count == expected.count, "\(actual.count) values against \(expected.count)")
    let scale = expected.reduce(0) { max($0, abs($1)) }
    var worst: Float = 0
    for (a, e) in zip(actual, expected) {
        let denominator = max(abs(e), floor * scale, .leastNormalMagnitude)
        worst = max(worst, abs(a - e) / denominator)
    }
    return worst
}

/// `‖a − b‖ / (‖a‖ + ‖b‖)`, the usual summary of a gradient check.
public func normalizedDifference(_ a: [Float], _ b: [Float]) -> Double {
    var diff = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) {
        diff += Double(x - y) * Double(x - y)
        na += Double(x) * Double(x)
        nb += Double(y) * Double(y)
    }
    return diff.squareRoot() / max(na.squareRoot() + nb.squareRoot(), 1e-30)
}

/// `‖actual − expected‖ / ‖expected‖`: the normwise relative error of a whole tensor.
public func normwiseRelativeError(_ actual: [Float], _ expected: [Float]) -> Double {
    var diff = 0.0, norm = 0.0
    for (a, e) in zip(actual, expected) {
        diff += Double(a - e) * Double(a - e)
        norm += Double(e) * Double(e)
    }
    return (diff / max(norm, 1e-300)).squareRoot()
}
