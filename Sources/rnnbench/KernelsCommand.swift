import ArgumentParser
import RNNCore

/// GFLOP/s of the engine's products on the shapes a char-RNN runs, per kernel path and
/// against OpenBLAS, as `key=value` lines: the measurements that chose the kernels.
struct KernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "GFLOP/s of each product shape, per kernel path and for OpenBLAS, as key=value lines.")

    @Option(help: "Threads of one product.")
    var threads: Int = 1

    @Option(help: "Seconds per shape and backend.")
    var seconds: Double = 0.5

    /// A product as the engine calls it: name, transposes, m, n, k.
    struct Shape {
        let name: String
        let transposeA: Bool
        let transposeB: Bool
        let m: Int
        let n: Int
        let k: Int
    }

    static let shapes: [Shape] = [
        Shape(name: "2x128.recurrent", transposeA: false, transposeB: false, m: 50, n: 512, k: 128),
        Shape(name: "2x128.recurrent_back", transposeA: false, transposeB: true, m: 50, n: 128, k: 512),
        Shape(name: "2x128.input", transposeA: false, transposeB: false, m: 2500, n: 512, k: 128),
        Shape(name: "2x128.weight_grad", transposeA: true, transposeB: false, m: 128, n: 512, k: 2500),
        Shape(name: "2x128.input_grad", transposeA: false, transposeB: true, m: 2500, n: 128, k: 512),
        Shape(name: "2x128.decoder", transposeA: false, transposeB: true, m: 2500, n: 65, k: 128),
        Shape(name: "2x512.recurrent", transposeA: false, transposeB: false, m: 32, n: 2048, k: 512),
        Shape(name: "2x512.recurrent_back", transposeA: false, transposeB: true, m: 32, n: 512, k: 2048),
        Shape(name: "2x512.weight_grad", transposeA: true, transposeB: false, m: 512, n: 2048, k: 3200),
        Shape(name: "sample.2x128", transposeA: false, transposeB: false, m: 1, n: 512, k: 128),
        Shape(name: "sample.2x512", transposeA: false, transposeB: false, m: 1, n: 2048, k: 512),
    ]

    func run() throws {
        BLAS.threadCount = threads
        print("engine \(Kernels.summary) threads=\(BLAS.threadCount)")
        let chosen = Kernels.path
        defer { Kernels.select(chosen) }
        for shape in Self.shapes {
            var line = "shape=\(shape.name) m=\(shape.m) n=\(shape.n) k=\(shape.k)"
            for path in Kernels.supportedPaths {
                Kernels.select(path)
                line += " \(path.rawValue)=\(format(measure(shape, .kernels)))"
            }
            Kernels.select(chosen)
            line += BLAS.openBLASAvailable ? " openblas=\(format(measure(shape, .openBLAS)))" : " openblas=unavailable"
            print(line)
        }
    }

    /// GFLOP/s of `shape` on `backend`, over about `seconds`.
    private func measure(_ shape: Shape, _ backend: BLAS.Backend) -> Double {
        let a = [Float](repeating: 0.5, count: shape.m * shape.k)
        let b = [Float](repeating: 0.25, count: shape.k * shape.n)
        var c = [Float](repeating: 0, count: shape.m * shape.n)
        func once() {
            BLAS.gemm(
                using: backend, transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m, n: shape.n,
                k: shape.k, a, b, beta: 1, &c)
        }
        for _ in 0..<3 { once() }
        var runs = 0
        let start = monotonicSeconds()
        var elapsed = 0.0
        while elapsed < seconds {
            once()
            runs += 1
            elapsed = monotonicSeconds() - start
        }
        return 2 * Double(shape.m * shape.n * shape.k) * Double(runs) / elapsed / 1e9
    }
}
