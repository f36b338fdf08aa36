/// The dense elementwise passes of `ToyModelKernel` over a `[batch, n]` buffer, vectorised.
///
/// Bias and importance are tiled over 8 rows, so a block of 8 rows is one contiguous run of
/// `8n` scalars that SIMD8 lanes walk without caring where rows end, even when n is not a multiple of 8.
final class RowPasses {
    let n: Int
    var tiledBias: [Float]        // [8, n]
    var tiledWeight: [Float]      // [8, n]: scale · importance
    var tiledImportance: [Float]  // [8, n]
    var biasAccumulator: [Float]  // [8, n]

    init(featureCount n: Int, batchSize: Int) {
        self.n = n
        tiledBias = .init(repeating: 0, count: 8 * n)
        tiledWeight = tiledBias
        tiledImportance = tiledBias
        biasAccumulator = tiledBias
    }

    func load(bias: UnsafePointer<Float>, importance: UnsafePointer<Float>, scale: Float) {
        for r in 0..<8 {
            for i in 0..<n {
                tiledBias[r * n + i] = bias[i]
                tiledImportance[r * n + i] = importance[i]
                tiledWeight[r * n + i] = scale * importance[i]
            }
        }
    }

    /// `g = act(g + b)` in place; returns Σ importance · g² over every entry.
    func activate(_ g: UnsafeMutablePointer<Float>, rows: Int, kind: ToyModel.Kind) -> Double {
        let width = 8 * n
        let relu = kind == .reluOutput
        var total: Double = 0
        tiledBias.withUnsafeBufferPointer { bias in
        tiledImportance.withUnsafeBufferPointer { importance in
            let bias = bias.baseAddress!, importance = importance.baseAddress!
            var block = 0
            while block < rows {
                let rowsHere = min(8, rows - block)
                let count = rowsHere * n
                let base = g + block * n
                var accumulator = SIMD8<Float>()
                var e = 0
                while e + 8 <= count {
                    var out = load(base + e) + load(bias + e)
                    if relu { out = pointwiseMax(out, SIMD8()) }
                    accumulator += load(importance + e) * out * out
                    store(out, base + e)
                    e += 8
                }
                var tail: Float = 0
                while e < count {
                    var out = base[e] + bias[e]
                    if relu { out = max(out, 0) }
                    tail += importance[e] * out * out
                    base[e] = out
                    e += 1
                }
                total += Double(accumulator.sum() + tail)
                block += 8
            }
        }}
        return total
    }

    /// `g *= scale · importance` in place, and the bias gradient `Σ_b g[b, :]` into `biasGradient: [n]`.
    func scale(_ g: UnsafeMutablePointer<Float>, rows: Int, biasGradient: UnsafeMutablePointer<Float>) {
        tiledWeight.withUnsafeBufferPointer { weight in
        biasAccumulator.withUnsafeMutableBufferPointer { sums in
            let weight = weight.baseAddress!, sums = sums.baseAddress!
            for e in 0..<(8 * n) { sums[e] = 0 }
            var block = 0
            while block < rows {
                let count = min(8, rows - block) * n
                let base = g + block * n
                var e = 0
                while e + 8 <= count {
                    let scaled = load(base + e) * load(weight + e)
                    store(scaled, base + e)
                    store(load(sums + e) + scaled, sums + e)
                    e += 8
                }
                while e < count {
                    base[e] *= weight[e]
                    sums[e] += base[e]
                    e += 1
                }
                block += 8
            }
            for i in 0..<n {
                var total: Float = 0
                for r in 0..<8 { total += sums[r * n + i] }
                biasGradient[i] = total
            }
        }}
    }

    @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}
