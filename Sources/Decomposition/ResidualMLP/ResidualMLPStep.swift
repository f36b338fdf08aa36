import CKernels
import Foundation
import TensorCore
import ToyModels

/// The APD step of a `ResidualMLPTarget`, hand-differentiated, batch-major (`[batch, width]`).
///
/// Attributions without one backward pass per output: the target's Jacobian is applied forward
/// (linearised at the target's ReLU pattern) to each component's outputs. For component c, with
/// the target's residual r_l, post-ReLU post_l and ReLU mask act_l,
///
///     Δpost_l = act_l ⊙ ( r_l A^in_lc B^in_lc + Σ_{l' < l} [Δpost_l' W^out_l' + u_l' B^out_l'c] W^in_l )
///     u_l     = post_l A^out_lc
///     t_c     = Σ_l Δpost_l W^out_l W_U + u_l B^out_lc W_U
///     Attr[b, c] = Σ_o t_c[b, o]²
///
/// which is Σ_o (Σ_matrices ∂out_o/∂(matrix output) · component output)², the reference's
/// definition, with the products W^out W^in, W^out W_U, B^out W^in and B^out W_U formed once per
/// step. The sparse forward pass runs only the (sample, component) pairs batch top-k keeps.
///
/// Both cores share every phase without the thread count changing any result: components (and
/// samples) are split into ranges that write disjoint slices, and every sum over components runs
/// in a fixed order. The parameter match and the Schatten penalty write each component's
/// gradient while it is in cache (no zeroing pass); the sparse pass adds its terms after.
final class ResidualMLPStep: DecompositionStep {
    let settings: APDSettings
    let batch: Int, components: Int, rank: Int
    let inputs: Int, outputs: Int, embedding: Int
    let widths: [Int]
    let layerCount: Int
    let layout: ComponentLayout
    private let scratch: Scratch
    private var topK = BatchTopK()
    // Frozen target, row-major.
    private let wE, wU: UnsafeMutablePointer<Float>
    private let wIn, wOut: [UnsafeMutablePointer<Float>]
    private let bIn, bOut: [UnsafeMutablePointer<Float>?]
    private let outIn: [[UnsafeMutablePointer<Float>?]]   // [l'][l] = W^out_l' W^in_l, l' < l
    private let outU: [UnsafeMutablePointer<Float>]       // [l] = W^out_l W_U
    // Target activations of the batch.
    private let x, y: UnsafeMutablePointer<Float>
    private let r, pre, post, active: [UnsafeMutablePointer<Float>]
    // Per-step products of components with the target.
    private let bOutU: [UnsafeMutablePointer<Float>]          // [l]: [C, k, outputs] = B^out_lc W_U
    private let bOutIn: [[UnsafeMutablePointer<Float>?]]      // [l'][l]: [C, k, h_l] = B^out_l'c W^in_l
    private let attribution, mask: UnsafeMutablePointer<Float>    // [C, batch]
    // Per-thread attribution scratch.
    private let threadScratch: [AttributionScratch]
    // The sparse forward pass.
    private let rM, preM, postM: [UnsafeMutablePointer<Float>]
    private let yM, dPre: UnsafeMutablePointer<Float>
    private var gradR, gradNext: UnsafeMutablePointer<Float>
    // Per kept pair and layer: w = r' A^in_c, u = post' A^out_c and their gradients.
    private var pairW: [UnsafeMutablePointer<Float>] = [], pairU: [UnsafeMutablePointer<Float>] = []
    private var pairDW: UnsafeMutablePointer<Float>?, pairDU: UnsafeMutablePointer<Float>?
    private var pairs: [(sample: Int, component: Int)] = []
    private var pairStart: [Int] = []            // pairs of sample s: pairStart[s]..<pairStart[s + 1]
    private var componentPairs: [[Int]] = []     // pair indices of component c, in sample order
    private let schattenTerms: UnsafeMutablePointer<Double>   // [matrix, C]: each component's penalty
    private let difference: [UnsafeMutablePointer<Float>]   // per decomposed matrix: W − Σ A B
    private let partialSums: [UnsafeMutablePointer<Float>]  // per decomposed matrix: one Σ A B per block of components
    /// Blocks of components summed separately in the parameter match: fixed, so the sum's rounding
    /// (and every result) does not depend on the thread count.
    static let componentBlocks = 8
    private var componentBlock: Int { (components + Self.componentBlocks - 1) / Self.componentBlocks }
    private let threads: Int

    struct AttributionScratch {
        let inner: UnsafeMutablePointer<Float>   // [B, k]
        let embedded: UnsafeMutablePointer<Float> // [inputs, k]
        let dPre: UnsafeMutablePointer<Float>    // [B, h_max]
        let dPost: [UnsafeMutablePointer<Float>] // [l]: [B, h_l]
        let u: [UnsafeMutablePointer<Float>]     // [l]: [B, k]
        let t: UnsafeMutablePointer<Float>       // [B, outputs]
    }

    init(model: ResidualMLP, settings: APDSettings) {
        // Everything is built in locals first: closures may not capture a half-initialised self.
        let scratch = Scratch()
        let (bs, d, k, C) = (settings.batchSize, model.embeddingWidth, settings.rank, settings.components)
        let (inputs, outputs) = (model.inputCount, model.outputCount)
        let widths = model.layers.map(\.width), layerCount = model.layers.count
        let layout = ComponentLayout(layers: ResidualMLPTarget.layers(of: model), components: C, rank: k)
        func copy(_ t: Tensor) -> UnsafeMutablePointer<Float> { let p = scratch.buffer(t.count); p.update(from: t.scalars, count: t.count); return p }
        let wIn = model.layers.map { copy($0.inWeight) }, wOut = model.layers.map { copy($0.outWeight) }
        let wU = copy(model.unembedding)
        var outU: [UnsafeMutablePointer<Float>] = [], outIn: [[UnsafeMutablePointer<Float>?]] = []
        var bOutU: [UnsafeMutablePointer<Float>] = [], bOutIn: [[UnsafeMutablePointer<Float>?]] = []
        for l in 0..<layerCount {
            let product = scratch.buffer(widths[l] * outputs)
            Self.multiply(wOut[l], wU, product, m: widths[l], n: outputs, k: d)
            outU.append(product)
            bOutU.append(scratch.buffer(C * k * outputs))
            outIn.append((0..<layerCount).map { later in
                guard later > l else { return nil }
                let p = scratch.buffer(widths[l] * widths[later])
                Self.multiply(wOut[l], wIn[later], p, m: widths[l], n: widths[later], k: d)
                return p
            })
            bOutIn.append((0..<layerCount).map { later in later > l ? scratch.buffer(C * k * widths[later]) : nil })
        }
        let hMax = widths.max() ?? 1
        let threads = max(1, min(settings.threads == 0 ? ProcessInfo.processInfo.activeProcessorCount : settings.threads, C))
        self.scratch = scratch
        self.settings = settings
        (batch, components, rank, self.inputs, self.outputs, embedding) = (bs, C, k, inputs, outputs, d)
        (self.widths, self.layerCount, self.layout, self.threads) = (widths, layerCount, layout, threads)
        wE = copy(model.embedding)
        self.wU = wU
        (self.wIn, self.wOut) = (wIn, wOut)
        bIn = model.layers.map { $0.inBias.map(copy) }
        bOut = model.layers.map { $0.outBias.map(copy) }
        (self.outU, self.outIn, self.bOutU, self.bOutIn) = (outU, outIn, bOutU, bOutIn)
        x = scratch.buffer(bs * inputs); y = scratch.buffer(bs * outputs); yM = scratch.buffer(bs * outputs)
        r = (0...layerCount).map { _ in scratch.buffer(bs * d) }
        rM = (0...layerCount).map { _ in scratch.buffer(bs * d) }
        pre = widths.map { scratch.buffer(bs * $0) }; post = widths.map { scratch.buffer(bs * $0) }
        active = widths.map { scratch.buffer(bs * $0) }
        preM = widths.map { scratch.buffer(bs * $0) }; postM = widths.map { scratch.buffer(bs * $0) }
        attribution = scratch.buffer(C * bs); mask = scratch.buffer(C * bs)
        gradR = scratch.buffer(bs * d); gradNext = scratch.buffer(bs * d); dPre = scratch.buffer(bs * hMax)
        let schattenTerms = UnsafeMutablePointer<Double>.allocate(capacity: layout.layers.count * C)
        schattenTerms.initialize(repeating: 0, count: layout.layers.count * C)
        self.schattenTerms = schattenTerms
        difference = layout.layers.map { scratch.buffer($0.inputs * $0.outputs) }
        let blocks = Self.componentBlocks
        partialSums = layout.layers.map { scratch.buffer(blocks * $0.inputs * $0.outputs) }
        threadScratch = (0..<threads).map { _ in
            AttributionScratch(inner: scratch.buffer(bs * k), embedded: scratch.buffer(inputs * k), dPre: scratch.buffer(bs * hMax),
                               dPost: widths.map { scratch.buffer(bs * $0) }, u: widths.map { _ in scratch.buffer(bs * k) },
                               t: scratch.buffer(bs * outputs))
        }
    }

    deinit { schattenTerms.deallocate() }

    /// c = a · b (+ c when `accumulate`), row-major with the natural leading dimensions.
    static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int,
                         transposeA: Bool = false, transposeB: Bool = false, alpha: Float = 1, accumulate: Bool = false) {
        GEMM.multiply(m: m, n: n, k: k, a: a, lda: transposeA ? m : k, transposeA: transposeA,
                      b: b, ldb: transposeB ? k : n, transposeB: transposeB, c: c, ldc: n, alpha: alpha, beta: accumulate ? 1 : 0)
    }

    /// Runs `body` over the components split into `threads` contiguous ranges, in parallel.
    private func forComponents(_ body: (Range<Int>, Int) -> Void) {
        inParallel(count: components, body)
    }

    /// Runs `body(range, part)` over 0..<count split into `threads` contiguous ranges, in parallel,
    /// balanced by `cost(i) + 1` when given. Each part writes only its own items' slices (and its
    /// own scratch), so sharing is safe, and the split changes no result.
    private func inParallel(count: Int, cost: ((Int) -> Int)? = nil, _ body: (Range<Int>, Int) -> Void) {
        let parts = threads
        var bounds = (0...parts).map { count * $0 / parts }
        if let cost, parts > 1 {
            let weights = (0..<count).map { cost($0) + 1 }, total = weights.reduce(0, +)
            var (sum, part) = (0, 1)
            for i in 0..<count {
                sum += weights[i]
                while part < parts && sum * parts >= total * part { bounds[part] = i + 1; part += 1 }
            }
        }
        let ranges = (0..<parts).map { bounds[$0]..<bounds[$0 + 1] }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { t in shared.value(ranges[t], t) }
        }
    }

    private func a(_ p: UnsafePointer<Float>, matrix s: Int, component c: Int) -> UnsafePointer<Float> {
        p + layout.aOffsets[s] + c * layout.layers[s].inputs * rank
    }
    private func b(_ p: UnsafePointer<Float>, matrix s: Int, component c: Int) -> UnsafePointer<Float> {
        p + layout.bOffsets[s] + c * rank * layout.layers[s].outputs
    }

    /// The target's forward pass on x (batch-major), keeping every activation.
    private func targetForward() {
        let (bs, d) = (batch, embedding)
        Self.multiply(x, wE, r[0], m: bs, n: d, k: inputs)
        for l in 0..<layerCount {
            let h = widths[l]
            Self.multiply(r[l], wIn[l], pre[l], m: bs, n: h, k: d)
            for s in 0..<bs {
                let p = pre[l] + s * h, q = post[l] + s * h, a = active[l] + s * h
                if let bias = bIn[l] { for i in 0..<h { p[i] += bias[i] } }
                for i in 0..<h { q[i] = max(p[i], 0); a[i] = p[i] > 0 ? 1 : 0 }
            }
            r[l + 1].update(from: r[l], count: bs * d)
            Self.multiply(post[l], wOut[l], r[l + 1], m: bs, n: d, k: h, accumulate: true)
            if let bias = bOut[l] { for s in 0..<bs { for j in 0..<d { r[l + 1][s * d + j] += bias[j] } } }
        }
        Self.multiply(r[layerCount], wU, y, m: bs, n: outputs, k: d)
    }

    /// The attributions `[C, batch]` for x at `parameters` (exposed for checks).
    func attributions(input: UnsafePointer<Float>, parameters: UnsafePointer<Float>) -> [Float] {
        x.update(from: input, count: batch * inputs)
        targetForward()
        computeAttributions(parameters)
        return Array(UnsafeBufferPointer(start: attribution, count: components * batch))
    }

    private func computeAttributions(_ p: UnsafePointer<Float>) {
        let (bs, k, d) = (batch, rank, embedding)
        // The nonzero inputs of each sample, when they are few enough to beat a dense product.
        var nonzero = 0
        for i in 0..<(bs * inputs) where x[i] != 0 { nonzero += 1 }
        let activeInputs: [[(Int, Float)]]? = nonzero * 4 > bs * inputs ? nil : (0..<bs).map { sample in
            (0..<inputs).compactMap { f in x[sample * inputs + f] != 0 ? (f, x[sample * inputs + f]) : nil }
        }
        forComponents { range, t in
            let s = threadScratch[t]
            for c in range {
                for l in 0..<layerCount {
                    Self.multiply(b(p, matrix: 2 * l + 1, component: c), wU, bOutU[l] + c * k * outputs, m: k, n: outputs, k: d)
                    for later in (l + 1)..<max(l + 1, layerCount) {
                        Self.multiply(b(p, matrix: 2 * l + 1, component: c), wIn[later], bOutIn[l][later]! + c * k * widths[later], m: k, n: widths[later], k: d)
                    }
                }
                s.t.update(repeating: 0, count: bs * outputs)
                for l in 0..<layerCount {
                    let h = widths[l]
                    if l == 0 {
                        // r_0 = x W_E: through the small product W_E A^in_c ([inputs, k]) instead of the wide r_0.
                        Self.multiply(wE, a(p, matrix: 0, component: c), s.embedded, m: inputs, n: k, k: d)
                        if let active = activeInputs {
                            // Sparse features: only the rows of W_E A^in_c that a sample has on.
                            for sample in 0..<bs {
                                let row = s.inner + sample * k
                                row.update(repeating: 0, count: k)
                                for (f, value) in active[sample] { BatchVectors.axpy(value, s.embedded + f * k, row, k) }
                            }
                        } else {
                            Self.multiply(x, s.embedded, s.inner, m: bs, n: k, k: inputs)
                        }
                    } else {
                        Self.multiply(r[l], a(p, matrix: 2 * l, component: c), s.inner, m: bs, n: k, k: d)
                    }
                    Self.multiply(s.inner, b(p, matrix: 2 * l, component: c), s.dPre, m: bs, n: h, k: k)
                    for earlier in 0..<l {
                        Self.multiply(s.dPost[earlier], outIn[earlier][l]!, s.dPre, m: bs, n: h, k: widths[earlier], accumulate: true)
                        Self.multiply(s.u[earlier], bOutIn[earlier][l]! + c * k * h, s.dPre, m: bs, n: h, k: k, accumulate: true)
                    }
                    BatchVectors.multiply(active[l], s.dPre, s.dPost[l], bs * h)
                    Self.multiply(post[l], a(p, matrix: 2 * l + 1, component: c), s.u[l], m: bs, n: k, k: h)
                    Self.multiply(s.dPost[l], outU[l], s.t, m: bs, n: outputs, k: h, accumulate: true)
                    Self.multiply(s.u[l], bOutU[l] + c * k * outputs, s.t, m: bs, n: outputs, k: k, accumulate: true)
                }
                let row = attribution + c * bs
                for sample in 0..<bs { row[sample] = BatchVectors.dot(s.t + sample * outputs, s.t + sample * outputs, outputs) }
            }
        }
    }

    func lossAndGradients(input: UnsafePointer<Float>, parameters p: UnsafePointer<Float>,
                          gradients g: UnsafeMutablePointer<Float>) -> APDLossTerms {
        var terms = APDLossTerms()
        x.update(from: input, count: batch * inputs)
        targetForward()
        computeAttributions(p)
        topK.select(scores: attribution, count: components * batch, keep: settings.keptPairs, mask: mask)
        // The parameter match and the Schatten penalty write every gradient (no zeroing pass); the
        // sparse pass adds its terms after.
        (terms.parameterMatch, terms.schatten) = parameterMatchAndSchatten(p, g)
        (terms.topKReconstruction, terms.activationReconstruction) = sparsePass(p, g)
        terms.weigh(by: settings)
        return terms
    }

    /// The model's output with only the components `mask` keeps: `[batch, outputs]` for x:
    /// `[batch, inputs]` and mask: `[C, batch]` (0 or 1). For evaluation (scrubbing, ablations).
    func output(input: UnsafePointer<Float>, parameters p: UnsafePointer<Float>, mask kept: UnsafePointer<Float>) -> [Float] {
        x.update(from: input, count: batch * inputs)
        targetForward()
        mask.update(from: kept, count: components * batch)
        sparseForward(p)
        defer { releasePairs() }
        return Array(UnsafeBufferPointer(start: yM, count: batch * outputs))
    }

    /// The target's output `[batch, outputs]` for x: `[batch, inputs]`.
    func targetOutput(input: UnsafePointer<Float>) -> [Float] {
        x.update(from: input, count: batch * inputs)
        targetForward()
        return Array(UnsafeBufferPointer(start: y, count: batch * outputs))
    }

    /// The forward pass with only the (sample, component) pairs `mask` keeps: fills rM, preM,
    /// postM, yM and the per-pair inner activations (freed by `releasePairs`).
    private func sparseForward(_ p: UnsafePointer<Float>) {
        let (bs, d, k) = (batch, embedding, rank)
        pairs.removeAll(keepingCapacity: true)
        pairStart = [0]
        componentPairs = Array(repeating: [], count: components)
        for sample in 0..<bs {
            for c in 0..<components where mask[c * bs + sample] != 0 {
                componentPairs[c].append(pairs.count)
                pairs.append((sample, c))
            }
            pairStart.append(pairs.count)
        }
        pairW = (0..<layerCount).map { _ in .allocate(capacity: max(1, pairs.count * k)) }
        pairU = (0..<layerCount).map { _ in .allocate(capacity: max(1, pairs.count * k)) }
        pairDW = .allocate(capacity: max(1, pairs.count * k))
        pairDU = .allocate(capacity: max(1, pairs.count * k))
        rM[0].update(from: r[0], count: bs * d)
        for l in 0..<layerCount {
            let h = widths[l]
            // Samples are independent: each writes only its own rows and pairs.
            inParallel(count: bs, cost: { self.pairStart[$0 + 1] - self.pairStart[$0] }) { samples, _ in
                for sample in samples {
                    let residual = rM[l] + sample * d, preRow = preM[l] + sample * h, postRow = postM[l] + sample * h
                    let next = rM[l + 1] + sample * d
                    next.update(from: residual, count: d)
                    if let bias = bIn[l] { preRow.update(from: bias, count: h) } else { preRow.update(repeating: 0, count: h) }
                    for index in pairStart[sample]..<pairStart[sample + 1] {
                        let c = pairs[index].component, w = pairW[l] + index * k
                        w.update(repeating: 0, count: k)
                        ck_vector_matrix(residual, a(p, matrix: 2 * l, component: c), d, k, w)
                        ck_vector_matrix(w, b(p, matrix: 2 * l, component: c), k, h, preRow)
                    }
                    for i in 0..<h { postRow[i] = max(preRow[i], 0) }
                    if let bias = bOut[l] { for j in 0..<d { next[j] += bias[j] } }
                    for index in pairStart[sample]..<pairStart[sample + 1] {
                        let c = pairs[index].component, u = pairU[l] + index * k
                        u.update(repeating: 0, count: k)
                        ck_vector_matrix(postRow, a(p, matrix: 2 * l + 1, component: c), h, k, u)
                        ck_vector_matrix(u, b(p, matrix: 2 * l + 1, component: c), k, d, next)
                    }
                }
            }
        }
        Self.multiply(rM[layerCount], wU, yM, m: bs, n: outputs, k: d)
    }

    private func releasePairs() {
        for l in 0..<layerCount { pairW[l].deallocate(); pairU[l].deallocate() }
        pairDW?.deallocate(); pairDU?.deallocate()
        (pairW, pairU, pairDW, pairDU) = ([], [], nil, nil)
    }

    /// The sparse forward pass with the kept (sample, component) pairs, the output and activation
    /// reconstruction losses, and their gradients (scaled by their coefficients) added to g.
    private func sparsePass(_ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>) -> (Double, Double) {
        let (bs, d, k) = (batch, embedding, rank)
        sparseForward(p)
        defer { releasePairs() }
        // Losses: mean (y' − y)² over batch and outputs; Σ_l ‖post' − post‖² / Σ_l h_l, mean over batch.
        var reconstruction = 0.0, activation = 0.0
        let reconScale = Float(settings.topKReconstructionCoefficient) * 2 / Float(bs * outputs)
        for i in 0..<(bs * outputs) {
            let e = yM[i] - y[i]
            reconstruction += Double(e * e)
            yM[i] = reconScale * e  // yM now holds ∂loss/∂y'
        }
        let totalWidth = widths.reduce(0, +)
        let actScale = Float(settings.activationReconstructionCoefficient) * 2 / Float(bs * totalWidth)
        for l in 0..<layerCount {
            for i in 0..<(bs * widths[l]) { let e = postM[l][i] - post[l][i]; activation += Double(e * e) }
        }
        let (dW, dU) = (pairDW!, pairDU!)
        // Backward: gradR holds ∂loss/∂r'_{l+1}. Per sample (in parallel): the gradients of each
        // pair's inner activations and of the residual; then per component (in parallel, its pairs
        // in sample order): the gradients of A and B.
        Self.multiply(yM, wU, gradR, m: bs, n: d, k: outputs, transposeB: true)
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let h = widths[l]
            inParallel(count: bs, cost: { self.pairStart[$0 + 1] - self.pairStart[$0] }) { samples, _ in
                for sample in samples {
                    let gr = gradR + sample * d, postRow = postM[l] + sample * h, preRow = preM[l] + sample * h
                    let dPost = dPre + sample * h
                    dPost.update(repeating: 0, count: h)
                    for index in pairStart[sample]..<pairStart[sample + 1] {
                        let c = pairs[index].component, du = dU + index * k
                        let aOut = a(p, matrix: 2 * l + 1, component: c), bOut = b(p, matrix: 2 * l + 1, component: c)
                        du.update(repeating: 0, count: k)
                        ck_matrix_vector(bOut, gr, k, d, du)
                        ck_matrix_vector(aOut, du, h, k, dPost)
                    }
                    let target = post[l] + sample * h
                    for i in 0..<h {
                        dPost[i] += actScale * (postRow[i] - target[i])
                        if preRow[i] <= 0 { dPost[i] = 0 }  // now ∂loss/∂pre'
                    }
                    let gn = gradNext + sample * d
                    gn.update(from: gr, count: d)  // the residual path
                    for index in pairStart[sample]..<pairStart[sample + 1] {
                        let c = pairs[index].component, dw = dW + index * k
                        let aIn = a(p, matrix: 2 * l, component: c), bIn = b(p, matrix: 2 * l, component: c)
                        dw.update(repeating: 0, count: k)
                        ck_matrix_vector(bIn, dPost, k, h, dw)
                        ck_matrix_vector(aIn, dw, d, k, gn)
                    }
                }
            }
            inParallel(count: components, cost: { self.componentPairs[$0].count }) { range, _ in
                for c in range {
                    let aOut = a(p, matrix: 2 * l + 1, component: c), bOut = b(p, matrix: 2 * l + 1, component: c)
                    let aIn = a(p, matrix: 2 * l, component: c), bIn = b(p, matrix: 2 * l, component: c)
                    let (gaOut, gbOut, gaIn, gbIn) = (g + (aOut - p), g + (bOut - p), g + (aIn - p), g + (bIn - p))
                    for index in componentPairs[c] {
                        let sample = pairs[index].sample
                        let gr = gradR + sample * d, postRow = postM[l] + sample * h, residual = rM[l] + sample * d
                        let (u, du, w, dw) = (pairU[l] + index * k, dU + index * k, pairW[l] + index * k, dW + index * k)
                        let dPost = dPre + sample * h
                        ck_rank_one(u, gr, k, d, gbOut)
                        ck_rank_one(postRow, du, h, k, gaOut)
                        ck_rank_one(w, dPost, k, h, gbIn)
                        ck_rank_one(residual, dw, d, k, gaIn)
                    }
                }
            }
            swap(&gradR, &gradNext)
        }
        return (reconstruction / Double(bs * outputs), activation / Double(bs * totalWidth))
    }

    /// The parameter match Σ_s ‖W_s − Σ_c A_sc B_sc‖² / n_params and the Schatten penalty (with the
    /// batch top-k mask), and their gradients (scaled by their coefficients) written to g.
    private func parameterMatchAndSchatten(_ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>) -> (Double, Double) {
        let k = rank
        let nParameters = layout.layers.map { $0.inputs * $0.outputs }.reduce(0, +)
        let scale = -2 * Float(settings.parameterMatchCoefficient) / Float(nParameters)
        let schattenScale = Float(settings.schattenCoefficient) / (Float(nParameters) * Float(batch))
        var usage = [Float](repeating: 0, count: components)
        for c in 0..<components { for t in 0..<batch { usage[c] += mask[c * batch + t] } }
        var total = 0.0
        for (s, layer) in layout.layers.enumerated() {
            let (dIn, dOut) = (layer.inputs, layer.outputs)
            let diff = difference[s]
            let block = s / 2
            // D = W − Σ_c A_c B_c: each thread sums its components into its own slice of `partial`.
            let partial = partialSums[s], size = componentBlock
            let blocks = (components + size - 1) / size
            withoutActuallyEscaping({ (index: Int) in
                let slice = partial + index * dIn * dOut
                for c in (index * size)..<min(self.components, (index + 1) * size) {
                    Self.multiply(self.a(p, matrix: s, component: c), self.b(p, matrix: s, component: c), slice, m: dIn, n: dOut, k: k,
                                  accumulate: c > index * size)
                }
            }) { body in
                let shared = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: blocks) { shared.value($0) }
            }
            diff.update(from: s % 2 == 0 ? wIn[block] : wOut[block], count: dIn * dOut)
            for index in 0..<blocks { let slice = partial + index * dIn * dOut; for i in 0..<(dIn * dOut) { diff[i] -= slice[i] } }
            total += Double(BatchVectors.dot(diff, diff, dIn * dOut))
            forComponents { range, _ in
                let sums = UnsafeMutablePointer<Float>.allocate(capacity: 4 * k)
                defer { sums.deallocate() }
                let (sa, sb, factorA, factorB) = (sums, sums + k, sums + 2 * k, sums + 3 * k)
                for c in range {
                    let aC = a(p, matrix: s, component: c), bC = b(p, matrix: s, component: c)
                    let (gA, gB) = (g + (aC - p), g + (bC - p))
                    // ∂/∂A_c = −2 D B_cᵀ, ∂/∂B_c = −2 A_cᵀ D (times coefficient / n_params), written over g;
                    // then the Schatten term while the component is still in cache.
                    Self.multiply(diff, bC, gA, m: dIn, n: k, k: dOut, transposeB: true, alpha: scale)
                    Self.multiply(aC, diff, gB, m: k, n: dOut, k: dIn, transposeA: true, alpha: scale)
                    SchattenPenalty.squaredNorms(a: aC, b: bC, inputs: dIn, rank: k, outputs: dOut, sa: sa, sb: sb)
                    schattenTerms[s * components + c] = SchattenPenalty.binaryTerm(
                        sa: sa, sb: sb, rank: k, usage: usage[c], batchSize: batch, p: Float(settings.schattenP),
                        scale: schattenScale, factorA: factorA, factorB: factorB)
                    SchattenPenalty.addGradient(a: aC, b: bC, inputs: dIn, rank: k, outputs: dOut, factorA: factorA, factorB: factorB,
                                                gradientA: gA, gradientB: gB)
                }
            }
        }
        // Summed in component order, so the reported penalty does not depend on the thread count either.
        let penalty = (0..<(layout.layers.count * components)).reduce(0.0) { $0 + schattenTerms[$1] }
        return (total / Double(nParameters), penalty / Double(nParameters * batch))
    }
}

/// A value handed to parallel workers that only touch disjoint parts of it.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
