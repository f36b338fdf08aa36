import TensorCore

/// The fused forward and backward pass of `ToyModel` for one instance on a sparse batch.
///
/// Writing the whole step by hand lets the sparse input skip absent features in both products
/// that touch x, and avoids materialising intermediate tensors. `ToyModel.output(tape:...)` is the
/// reference this is checked against.
public final class ToyModelKernel {
    let hiddenCount: Int, featureCount: Int, batchSize: Int
    // Scratch buffers reused every step.
    var transposedWeights: [Float]   // [n, m]
    var hidden: [Float]              // [batch, m]
    var outputGradient: [Float]      // [batch, n]: x' first, then dL/d(pre-activation)
    var hiddenGradient: [Float]      // [batch, m]
    var transposedWeightGradient: [Float] // [n, m]
    let rowPasses: RowPasses

    public init(hiddenCount m: Int, featureCount n: Int, batchSize: Int) {
        hiddenCount = m; featureCount = n; self.batchSize = batchSize
        transposedWeights = .init(repeating: 0, count: n * m)
        hidden = .init(repeating: 0, count: batchSize * m)
        outputGradient = .init(repeating: 0, count: batchSize * n)
        hiddenGradient = .init(repeating: 0, count: batchSize * m)
        transposedWeightGradient = .init(repeating: 0, count: n * m)
        rowPasses = RowPasses(featureCount: n, batchSize: batchSize)
    }

    /// Computes one instance's loss and accumulates its gradients.
    /// - Parameters:
    ///   - weights: `[m, n]` of this instance; `bias`, `importance`: `[n]`.
    ///   - weightGradient: `[m, n]`, overwritten; `biasGradient`: `[n]`, overwritten.
    /// - Returns: the loss: mean over batch and features of importance · (x − x')².
    public func lossAndGradients(
        kind: ToyModel.Kind, rows: SparseRows,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, importance: UnsafePointer<Float>,
        weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>
    ) -> Float {
        let (m, n, batch) = (hiddenCount, featureCount, batchSize)
        precondition(rows.rowStart.count == batch + 1, "rows hold \(rows.rowStart.count - 1) samples, kernel expects \(batch)")
        var loss: Double = 0
        rowPasses.load(bias: bias, importance: importance, scale: 2 / Float(batch * n))
        rows.rowStart.withUnsafeBufferPointer { rowStart in
        rows.feature.withUnsafeBufferPointer { feature in
        rows.value.withUnsafeBufferPointer { value in
        transposedWeights.withUnsafeMutableBufferPointer { wt in
        hidden.withUnsafeMutableBufferPointer { h in
        outputGradient.withUnsafeMutableBufferPointer { g in
        hiddenGradient.withUnsafeMutableBufferPointer { dh in
        transposedWeightGradient.withUnsafeMutableBufferPointer { dwt in
            let wt = wt.baseAddress!, h = h.baseAddress!, g = g.baseAddress!, dh = dh.baseAddress!, dwt = dwt.baseAddress!
            for k in 0..<m { for i in 0..<n { wt[i * m + k] = weights[k * n + i] } }

            // h[b, :] = Σ_present x_bi · W[:, i]
            for b in 0..<batch {
                let hb = h + b * m
                for k in 0..<m { hb[k] = 0 }
                for e in Int(rowStart[b])..<Int(rowStart[b + 1]) {
                    let x = value[e], wi = wt + Int(feature[e]) * m
                    for k in 0..<m { hb[k] += x * wi[k] }
                }
            }
            // pre = h W  -> g
            GEMM.multiply(m: batch, n: n, k: m, a: h, lda: m, b: weights, ldb: n, c: g, ldc: n)

            // g becomes dL/dpre = 2 I_i (x'_i − x_i) / (batch · n) where the output is active.
            // Dense passes run over all features; only present features need the sparse correction.
            loss = rowPasses.activate(g, rows: batch, kind: kind)
            for b in 0..<batch {
                let gb = g + b * n
                for e in Int(rowStart[b])..<Int(rowStart[b + 1]) {
                    let i = Int(feature[e]), x = value[e], out = gb[i]
                    loss += Double(importance[i] * (x * x - 2 * out * x))  // (out − x)² − out²
                    gb[i] = (kind == .linear || out > 0) ? out - x : 0
                }
            }
            rowPasses.scale(g, rows: batch, biasGradient: biasGradient)
            // dW (decoder use) = hᵀ g
            GEMM.multiply(m: m, n: n, k: batch, a: h, lda: m, transposeA: true, b: g, ldb: n, c: weightGradient, ldc: n)
            // dh = g Wᵀ
            GEMM.multiply(m: batch, n: m, k: n, a: g, lda: n, b: weights, ldb: n, transposeB: true, c: dh, ldc: m)
            // dW (encoder use)[:, i] += Σ_present x_bi · dh[b, :]
            for j in 0..<(n * m) { dwt[j] = 0 }
            for b in 0..<batch {
                let dhb = dh + b * m
                for e in Int(rowStart[b])..<Int(rowStart[b + 1]) {
                    let x = value[e], dwi = dwt + Int(feature[e]) * m
                    for k in 0..<m { dwi[k] += x * dhb[k] }
                }
            }
            for k in 0..<m { for i in 0..<n { weightGradient[k * n + i] += dwt[i * m + k] } }
        }}}}}}}}
        return Float(loss / Double(batch * n))
    }
}
