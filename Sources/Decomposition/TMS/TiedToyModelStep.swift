import CKernels
import Foundation

/// The APD step of one `TiedToyModelTarget` instance, hand-differentiated.
///
/// Scratch is feature-major (`[feature][batch]`, batch innermost) so that the batch-wide loops run
/// over contiguous rows; the sparse pass, which goes sample by sample, reads sample-major copies.
/// With P_c = x A_c and Q_c = h B_cᵀ (h the attribution model's hidden layer), the closed-form
/// gradient attribution is
///
///     Attr[b,c] = Σ_o 1[pre_o > 0] · (Σ_k P[c,k] (B_c Wᵀ)[k,o] + Q[c,k] A[c,o,k])²
///
/// — the first term is layer 1's component output pushed through ∂out_o/∂h = 1[pre_o > 0] W_o, the
/// second is layer 2's (∂out_o/∂pre_o = 1[pre_o > 0]). It equals the reference's one backward pass per
/// output dimension (checked in the tests); `ck_apd_tied_attributions` computes it.
final class TiedToyModelStep: DecompositionStep {
    let n: Int, m: Int, components: Int, rank: Int, batch: Int
    let settings: APDSettings
    /// 1 / instances: the reference's objective is each term's mean over instances, so one instance's
    /// gradient carries this factor. Adam undoes the scale except through its ε (1e-8), and late in a
    /// TMS 40-10 run most gradients are below ε (median RMS per parameter ~2e-9), so it matters there.
    let instanceWeight: Float
    private let scratch = Scratch()
    private var topK = BatchTopK()
    // Feature-major buffers, each row `batch` long (P, Q, their gradients and `row` only for L_p).
    private let x, targetHidden, targetOutput, targetActive, hidden2, output2, active2: UnsafeMutablePointer<Float>
    private let p, q, attribution, mask, dv, du, row: UnsafeMutablePointer<Float>
    // The sparse pass's: the target's output sample-major ([batch, n]) and the kernel's scratch.
    private let targetBySample, sparseScratch: UnsafeMutablePointer<Float>
    private let summed, projected, dProjected, dMask, dAttribution: UnsafeMutablePointer<Float>
    // A transposed [n, m] matrix ([m, n]: W or D) and sums over it ([max(n, m)]).
    private let transposed, sums: UnsafeMutablePointer<Float>
    private let target, bias: UnsafeMutablePointer<Float>  // [n, m] and [n]

    /// - Parameter instances: how many instances the loss averages over (the gradient's 1/instances).
    init(weight: [Float], bias: [Float], features n: Int, hidden m: Int, instances: Int = 1, settings: APDSettings) {
        self.n = n; self.m = m
        instanceWeight = 1 / Float(instances)
        components = settings.components; rank = settings.rank; batch = settings.batchSize
        self.settings = settings
        let (ck, b) = (settings.components * settings.rank, settings.batchSize)
        x = scratch.buffer(n * b); targetHidden = scratch.buffer(m * b); targetOutput = scratch.buffer(n * b)
        targetActive = scratch.buffer(n * b); hidden2 = scratch.buffer(m * b); output2 = scratch.buffer(n * b); active2 = scratch.buffer(n * b)
        let lp = settings.minimality == .lpAttributions
        p = scratch.buffer(lp ? ck * b : 0); q = scratch.buffer(lp ? ck * b : 0)
        dv = scratch.buffer(lp ? ck * b : 0); du = scratch.buffer(lp ? ck * b : 0); row = scratch.buffer(lp ? b : 0)
        attribution = scratch.buffer(settings.components * b); mask = scratch.buffer(settings.components * b)
        targetBySample = scratch.buffer(n * b)
        sparseScratch = scratch.buffer(ck_apd_tied_sparse_scratch_count(b, n, m, settings.rank, settings.components))
        transposed = scratch.buffer(n * m); sums = scratch.buffer(max(n, m))
        summed = scratch.buffer(n * m); projected = scratch.buffer(ck * n); dProjected = scratch.buffer(ck * n)
        dMask = scratch.buffer(settings.components * b); dAttribution = scratch.buffer(settings.components * b)
        target = scratch.buffer(n * m); target.update(from: weight, count: n * m)
        self.bias = scratch.buffer(n); self.bias.update(from: bias, count: n)
    }

    /// h = x W, out = ReLU(h Wᵀ + b), active = 1[h Wᵀ + b > 0], all feature-major.
    private func forward(weight w: UnsafePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                         output: UnsafeMutablePointer<Float>, active: UnsafeMutablePointer<Float>) {
        let b = batch
        hidden.update(repeating: 0, count: m * b)
        for i in 0..<n { for j in 0..<m { BatchVectors.axpy(w[i * m + j], x + i * b, hidden + j * b, b) } }
        for o in 0..<n {
            let pre = output + o * b
            pre.update(repeating: bias[o], count: b)
            for j in 0..<m { BatchVectors.axpy(w[o * m + j], hidden + j * b, pre, b) }
            let act = active + o * b
            for t in 0..<b { act[t] = pre[t] > 0 ? 1 : 0; pre[t] = max(pre[t], 0) }
        }
    }

    /// The attributions Attr: `[C, batch]`, for `x: [batch, n]` (exposed for checks and figures).
    func attributions(input: UnsafePointer<Float>, parameters: UnsafePointer<Float>) -> [Float] {
        _ = prepare(input: input, parameters: parameters)
        return Array(UnsafeBufferPointer(start: attribution, count: components * batch))
    }

    /// Everything before the losses: x, Σ A B, the target's and the attribution model's forward
    /// passes, P, Q and the attributions. Returns the attribution model's hidden layer, ReLU mask and W.
    private func prepare(input: UnsafePointer<Float>, parameters: UnsafePointer<Float>)
        -> (hidden: UnsafeMutablePointer<Float>, active: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>) {
        let (b, C, k) = (batch, components, rank)
        let a = parameters, bm = parameters + C * n * k
        BatchVectors.transpose(input, rows: b, columns: n, into: x)
        // Σ_c A_c B_c, the decomposition's weight.
        summed.update(repeating: 0, count: n * m)
        for c in 0..<C { for i in 0..<n { for r in 0..<k {
            let air = a[(c * n + i) * k + r]
            for j in 0..<m { summed[i * m + j] += air * bm[(c * k + r) * m + j] }
        } } }

        forward(weight: target, hidden: targetHidden, output: targetOutput, active: targetActive)
        let attributionWeight: UnsafePointer<Float>
        let (hiddenA, activeA): (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
        if settings.attributionSource == .decomposition {
            forward(weight: summed, hidden: hidden2, output: output2, active: active2)
            (hiddenA, activeA, attributionWeight) = (hidden2, active2, UnsafePointer(summed))
        } else {
            (hiddenA, activeA) = (targetHidden, targetActive)
            attributionWeight = UnsafePointer(target)
        }

        // projected[c,k,o] = (B_c Wᵀ)[k,o] = Σ_j B[c,k,j] W[o,j], for all o at once (Wᵀ's rows run
        // over o): independent sums, each still over j in order.
        BatchVectors.transpose(attributionWeight, rows: n, columns: m, into: transposed)
        for c in 0..<C { for r in 0..<k {
            let row = projected + (c * k + r) * n
            row.update(repeating: 0, count: n)
            for j in 0..<m { BatchVectors.axpy(bm[(c * k + r) * m + j], transposed + j * n, row, n) }
        } }
        // P[c,k] = x A_c[:,k],  Q[c,k] = h B_c[k,:]ᵀ  and
        // Attr[c,b] = Σ_o active[o] t[c,o]²,  t[c,o] = Σ_k P[c,k] projected[c,k,o] + Q[c,k] A[c,o,k]
        // Only the L_p penalty's backward pass needs P and Q for every pair; top-k's sparse pass
        // recomputes P for the pairs it keeps.
        let keepsPQ = settings.minimality == .lpAttributions
        ck_apd_tied_attributions(b, n, m, k, C, x, hiddenA, activeA, a, bm, projected, keepsPQ ? p : nil, keepsPQ ? q : nil, attribution)

        return (hiddenA, activeA, attributionWeight)
    }

    func lossAndGradients(input: UnsafePointer<Float>, parameters: UnsafePointer<Float>,
                          gradients: UnsafeMutablePointer<Float>) -> APDLossTerms {
        let (b, C, k) = (batch, components, rank)
        let a = parameters, bm = parameters + C * n * k
        let ga = gradients, gb = gradients + C * n * k
        gradients.update(repeating: 0, count: C * n * k + C * k * m)
        var terms = APDLossTerms()
        let (hiddenA, activeA, attributionWeight) = prepare(input: input, parameters: parameters)

        let nParameters = Float(2 * n * m)  // W and its tied transpose, as the reference counts them
        switch settings.minimality {
        case .batchTopK:
            topK.select(scores: attribution, count: C * b, keep: settings.keptPairs, mask: mask)
            terms.topKReconstruction = sparseForwardAndBackward(input: input, a: a, bm: bm, ga: ga, gb: gb)
        case .lpAttributions:
            terms.lpSparsity = lpPenalty()
        }

        // Faithfulness: both layers hold W − Σ A B (transposed), so 2‖D‖² / (2nm).
        let pmScale = Float(settings.parameterMatchCoefficient) * 2 * 2 / nParameters
        var pm = 0.0
        for i in 0..<(n * m) { summed[i] = target[i] - summed[i]; pm += Double(summed[i]) * Double(summed[i]) }
        terms.parameterMatch = 2 * pm / Double(nParameters)
        // dA[c,i,r] −= s Σ_j D[i,j] B[c,r,j] (all i at once, over Dᵀ's rows);  dB[c,r,j] −= s Σ_i A[c,i,r] D[i,j]
        // (all j at once, over D's rows). Each sum still runs over j, or i, in order.
        BatchVectors.transpose(summed, rows: n, columns: m, into: transposed)
        for c in 0..<C { for r in 0..<k {
            sums.update(repeating: 0, count: n)
            for j in 0..<m { BatchVectors.axpy(bm[(c * k + r) * m + j], transposed + j * n, sums, n) }
            for i in 0..<n { ga[(c * n + i) * k + r] -= pmScale * sums[i] }
            sums.update(repeating: 0, count: m)
            for i in 0..<n { BatchVectors.axpy(a[(c * n + i) * k + r], summed + i * m, sums, m) }
            for j in 0..<m { gb[(c * k + r) * m + j] -= pmScale * sums[j] }
        } }

        // Simplicity: the transposed layer's penalty equals the first's (S_A and S_B swap), hence 2×.
        let schattenScale = Float(settings.schattenCoefficient) * 2 / (nParameters * Float(b))
        let binary = settings.minimality == .batchTopK
        if !binary { dMask.update(repeating: 0, count: C * b) }
        let penalty = SchattenPenalty.accumulate(a: a, b: bm, components: C, inputs: n, rank: k, outputs: m, mask: mask,
                                                 batchSize: b, binary: binary, p: Float(settings.schattenP), scale: schattenScale,
                                                 gradientA: ga, gradientB: gb, gradientMask: binary ? nil : dMask)
        terms.schatten = 2 * penalty / Double(nParameters * Float(b))
        if !binary { backpropagateAttributions(a: a, bm: bm, ga: ga, gb: gb, hidden: hiddenA, active: activeA, weight: attributionWeight) }
        terms.weigh(by: settings)
        if instanceWeight != 1 {
            for i in 0..<(C * n * k + C * k * m) { gradients[i] *= instanceWeight }
        }
        return terms
    }

    /// The sparse forward pass with the top-k components, its reconstruction loss against the
    /// target's output, and that loss's gradient (scaled by its coefficient) added to ga, gb.
    ///
    /// Batch top-k keeps a few percent of the (sample, component) pairs, so `ck_apd_tied_sparse_pass`
    /// runs sample by sample over the kept components only (and over the sample's present features
    /// and the outputs with a nonzero gradient only: the others add exact zeros):
    ///
    ///     P_c = x A_c,  h = Σ_c P_c B_c,  v_c = h B_cᵀ,  z = Σ_c v_c A_cᵀ + bias,  out = ReLU(z)
    ///
    /// `input` is x sample-major (`[batch, n]`), where a sample's features are contiguous.
    private func sparseForwardAndBackward(input: UnsafePointer<Float>, a: UnsafePointer<Float>, bm: UnsafePointer<Float>,
                                          ga: UnsafeMutablePointer<Float>, gb: UnsafeMutablePointer<Float>) -> Double {
        let (b, C, k) = (batch, components, rank)
        let scale = Float(settings.topKReconstructionCoefficient) * 2 / Float(b * n)
        BatchVectors.transpose(targetOutput, rows: n, columns: b, into: targetBySample)
        let loss = ck_apd_tied_sparse_pass(b, n, m, k, C, input, targetBySample, mask, bias, a, bm, scale, ga, gb, sparseScratch)
        return loss / Double(b * n)
    }

    /// Appendix A.2.3 (`LpAttributionPenalty`): Σ_c mean_b (Attr[c,b] / n + ε)^(p/2). Fills `mask` with the
    /// per-pair penalty (this variant's Schatten mask) and `dAttribution` with ∂mask/∂Attr;
    /// `backpropagateAttributions` weighs it and takes it into A and B.
    private func lpPenalty() -> Double {
        LpAttributionPenalty.evaluate(attributions: attribution, count: components * batch, outputs: n,
                                      p: Float(settings.lpSparsityP), mask: mask, slope: dAttribution) / Double(batch)
    }

    /// Adds the Schatten mask's gradient (through mask = (Attr/n + ε)^(p/2)) to the L_p penalty's
    /// gradient with respect to the attributions, then backpropagates both into A and B.
    /// The target's gradients and hidden activations are constants, as in the reference.
    private func backpropagateAttributions(a: UnsafePointer<Float>, bm: UnsafePointer<Float>, ga: UnsafeMutablePointer<Float>,
                                     gb: UnsafeMutablePointer<Float>, hidden: UnsafePointer<Float>, active: UnsafePointer<Float>,
                                     weight: UnsafePointer<Float>) {
        let (b, C, k) = (batch, components, rank)
        // ∂total/∂Attr = ∂mask/∂Attr · (coefficient / batch from the penalty + ∂Schatten/∂mask).
        let lpScale = Float(settings.lpSparsityCoefficient) / Float(b)
        let dAttr = dAttribution
        for i in 0..<(C * b) { dAttr[i] *= lpScale + dMask[i] }
        // Attr[c] = Σ_o act[o] t[c,o]²  ⇒  dt[c,o] = 2 act[o] t[c,o] dAttr[c]
        for c in 0..<C {
            for r in 0..<k { (du + (c * k + r) * b).update(repeating: 0, count: b); (dv + (c * k + r) * b).update(repeating: 0, count: b) }
            for o in 0..<n {
                row.update(repeating: 0, count: b)
                for r in 0..<k {
                    BatchVectors.axpy(projected[(c * k + r) * n + o], p + (c * k + r) * b, row, b)
                    BatchVectors.axpy(a[(c * n + o) * k + r], q + (c * k + r) * b, row, b)
                }
                let act = active + o * b, d = dAttr + c * b
                for t in 0..<b { row[t] = 2 * act[t] * row[t] * d[t] }  // row is now dt[c,o]
                for r in 0..<k {
                    // t = Σ P projected + Q A: gradients to P, projected, Q and A.
                    BatchVectors.axpy(projected[(c * k + r) * n + o], row, du + (c * k + r) * b, b)
                    dProjected[(c * k + r) * n + o] = BatchVectors.dot(row, p + (c * k + r) * b, b)
                    BatchVectors.axpy(a[(c * n + o) * k + r], row, dv + (c * k + r) * b, b)
                    ga[(c * n + o) * k + r] += BatchVectors.dot(row, q + (c * k + r) * b, b)
                }
            }
            for r in 0..<k {
                // P = x A, Q = h Bᵀ, projected = B Wᵀ (W held constant).
                for i in 0..<n { ga[(c * n + i) * k + r] += BatchVectors.dot(x + i * b, du + (c * k + r) * b, b) }
                for j in 0..<m {
                    var s = BatchVectors.dot(dv + (c * k + r) * b, hidden + j * b, b)
                    for o in 0..<n { s += dProjected[(c * k + r) * n + o] * weight[o * m + j] }
                    gb[(c * k + r) * m + j] += s
                }
            }
        }
    }
}
