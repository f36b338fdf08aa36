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
/// The L_p variant (`lpAttributions`, Appendix A.2.3) has no sparse pass: the loss is the parameter
/// match, the L_p penalty on the attributions and the Schatten penalty weighted by that penalty per
/// pair, and its gradient runs back through the formula above, per component (`lpPass`).
///
/// Both cores share every phase without the thread count changing any result: components (and
/// samples) are split into ranges that write disjoint slices, and every sum over components runs
/// in a fixed order. Each component's gradient is assembled in one visit, while it is in cache:
/// the parameter match and the Schatten penalty write it (no zeroing pass), then the sparse pass
/// adds its terms.
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
    // The L_p variant: ∂mask/∂Attr, ∂Schatten/∂mask, then ∂total/∂Attr, and each component's Σ_b mask.
    private let lpSlope, dMask: UnsafeMutablePointer<Float>        // [C, batch]
    private let lpTerms: UnsafeMutablePointer<Double>              // [C]
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
    /// Blocks of components summed separately in the parameter match, and multiplied together in
    /// `componentProducts`: fixed, so the rounding (and every result) does not depend on the thread count.
    static let componentBlocks = 8
    private var componentBlock: Int { (components + Self.componentBlocks - 1) / Self.componentBlocks }
    /// The decomposed matrices' entries, the parameter match's and Schatten penalty's normaliser.
    private var decomposedParameterCount: Int { layout.layers.map { $0.inputs * $0.outputs }.reduce(0, +) }
    private let threads: Int

    struct AttributionScratch {
        let inner: [UnsafeMutablePointer<Float>] // [l]: [B, k]
        let embedded: UnsafeMutablePointer<Float> // [inputs, k]
        let dPre: UnsafeMutablePointer<Float>    // [B, h_max]
        let dPost: [UnsafeMutablePointer<Float>] // [l]: [B, h_l]
        let u: [UnsafeMutablePointer<Float>]     // [l]: [B, k]
        let t: UnsafeMutablePointer<Float>       // [B, outputs]
        // The L_p variant's backward pass: gradients of dPost, u and inner, and a [k, ·] product.
        let gradDPost: [UnsafeMutablePointer<Float>] // [l]: [B, h_l]
        let gradU: [UnsafeMutablePointer<Float>]     // [l]: [B, k]
        let gradInner: UnsafeMutablePointer<Float>   // [B, k]
        let product: UnsafeMutablePointer<Float>     // [k, max(outputs, h_max)]
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
        lpSlope = scratch.buffer(C * bs); dMask = scratch.buffer(C * bs)
        let lpTerms = UnsafeMutablePointer<Double>.allocate(capacity: C)
        lpTerms.initialize(repeating: 0, count: C)
        self.lpTerms = lpTerms
        gradR = scratch.buffer(bs * d); gradNext = scratch.buffer(bs * d); dPre = scratch.buffer(bs * hMax)
        let schattenTerms = UnsafeMutablePointer<Double>.allocate(capacity: layout.layers.count * C)
        schattenTerms.initialize(repeating: 0, count: layout.layers.count * C)
        self.schattenTerms = schattenTerms
        difference = layout.layers.map { scratch.buffer($0.inputs * $0.outputs) }
        let blocks = Self.componentBlocks
        partialSums = layout.layers.map { scratch.buffer(blocks * $0.inputs * $0.outputs) }
        let lp = settings.minimality == .lpAttributions
        threadScratch = (0..<threads).map { _ in
            AttributionScratch(inner: widths.map { _ in scratch.buffer(bs * k) }, embedded: scratch.buffer(inputs * k),
                               dPre: scratch.buffer(bs * hMax), dPost: widths.map { scratch.buffer(bs * $0) },
                               u: widths.map { _ in scratch.buffer(bs * k) }, t: scratch.buffer(bs * outputs),
                               gradDPost: widths.map { scratch.buffer(lp ? bs * $0 : 0) }, gradU: widths.map { _ in scratch.buffer(lp ? bs * k : 0) },
                               gradInner: scratch.buffer(lp ? bs * k : 0), product: scratch.buffer(lp ? k * max(outputs, hMax) : 0))
        }
    }

    deinit { schattenTerms.deallocate(); lpTerms.deallocate() }

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
        let ranges = cost.map { cost in ContiguousPartition.balanced(weights: (0..<count).map { Double(cost($0) + 1) }, parts: parts) }
            ?? ContiguousPartition.even(count: count, parts: parts)
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { t in shared.value(ranges[t], t) }
        }
    }

    /// Runs `body(index, components)` for each fixed block of components (`componentBlocks`), blocks in parallel.
    private func forEachComponentBlock(_ body: (Int, Range<Int>) -> Void) {
        let size = componentBlock
        inParallel(count: (components + size - 1) / size) { blocks, _ in
            for index in blocks { body(index, (index * size)..<min(components, (index + 1) * size)) }
        }
    }

    /// Runs `body(component, pair)` for every kept pair, component by component (components in
    /// parallel, balanced by their pairs), so that a component's matrices are read once for all its pairs.
    private func forEachPairByComponent(_ body: (Int, Int) -> Void) {
        inParallel(count: components, cost: { self.componentPairs[$0].count }) { range, _ in
            for c in range { for index in self.componentPairs[c] { body(c, index) } }
        }
    }

    /// Runs `body(slice)` over 0..<width split into `threads` slices that start on multiples of 8
    /// (whole vectors of the kernels, so a product split this way gives the same bits), in parallel.
    private func inSlices(of width: Int, _ body: (Range<Int>) -> Void) {
        inParallel(count: (width + 7) / 8) { vectors, _ in
            let slice = (8 * vectors.lowerBound)..<min(width, 8 * vectors.upperBound)
            if !slice.isEmpty { body(slice) }
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
        let activeInputs = sparseInputs()
        componentProducts(p)
        forComponents { range, t in
            for c in range { componentAttributions(c, p, threadScratch[t], activeInputs) }
        }
    }

    /// The nonzero inputs `(feature, value)` of each sample, when they are few enough to beat a dense product.
    private func sparseInputs() -> [[(Int, Float)]]? {
        let bs = batch
        var nonzero = 0
        for i in 0..<(bs * inputs) where x[i] != 0 { nonzero += 1 }
        return nonzero * 4 > bs * inputs ? nil : (0..<bs).map { sample in
            (0..<inputs).compactMap { f in x[sample * inputs + f] != 0 ? (f, x[sample * inputs + f]) : nil }
        }
    }

    /// Every component's products with the target, B^out_lc W_U and B^out_lc W^in_l' (l < l'), into
    /// `bOutU` and `bOutIn`: one product per block of components over their stacked rows
    /// ([components k, d]), so W_U and W^in are packed once per block rather than once per
    /// component. The blocks are fixed (`componentBlocks`), so the thread count changes no bits.
    private func componentProducts(_ p: UnsafePointer<Float>) {
        let (k, d) = (rank, embedding)
        forEachComponentBlock { _, block in
            let (first, count) = (block.lowerBound, block.count)
            for l in 0..<layerCount {
                let stacked = b(p, matrix: 2 * l + 1, component: first)
                Self.multiply(stacked, wU, bOutU[l] + first * k * outputs, m: count * k, n: outputs, k: d)
                for later in (l + 1)..<max(l + 1, layerCount) {
                    Self.multiply(stacked, wIn[later], bOutIn[l][later]! + first * k * widths[later], m: count * k, n: widths[later], k: d)
                }
            }
        }
    }

    /// Component c's row of the attributions, the closed form above, with the products of
    /// `componentProducts`. Leaves its intermediates in `s` (inner_l, Δpost_l, u_l, t and W_E A^in_0c)
    /// for the L_p variant's backward pass.
    private func componentAttributions(_ c: Int, _ p: UnsafePointer<Float>, _ s: AttributionScratch, _ activeInputs: [[(Int, Float)]]?) {
        let (bs, k, d) = (batch, rank, embedding)
        s.t.update(repeating: 0, count: bs * outputs)
        for l in 0..<layerCount {
            let h = widths[l], inner = s.inner[l]
            if l == 0 {
                // r_0 = x W_E: through the small product W_E A^in_c ([inputs, k]) instead of the wide r_0.
                Self.multiply(wE, a(p, matrix: 0, component: c), s.embedded, m: inputs, n: k, k: d)
                if let active = activeInputs {
                    // Sparse features: only the rows of W_E A^in_c that a sample has on.
                    for sample in 0..<bs {
                        let row = inner + sample * k
                        row.update(repeating: 0, count: k)
                        for (f, value) in active[sample] { BatchVectors.axpy(value, s.embedded + f * k, row, k) }
                    }
                } else {
                    Self.multiply(x, s.embedded, inner, m: bs, n: k, k: inputs)
                }
            } else {
                Self.multiply(r[l], a(p, matrix: 2 * l, component: c), inner, m: bs, n: k, k: d)
            }
            Self.multiply(inner, b(p, matrix: 2 * l, component: c), s.dPre, m: bs, n: h, k: k)
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

    func lossAndGradients(input: UnsafePointer<Float>, parameters p: UnsafePointer<Float>,
                          gradients g: UnsafeMutablePointer<Float>) -> APDLossTerms {
        var terms = APDLossTerms()
        x.update(from: input, count: batch * inputs)
        targetForward()
        switch settings.minimality {
        case .batchTopK:
            computeAttributions(p)
            topK.select(scores: attribution, count: components * batch, keep: settings.keptPairs, mask: mask)
            terms.parameterMatch = parameterMatchDifferences(p)
            // The sparse pass writes each component's parameter-match and Schatten gradients (no zeroing
            // pass) just before adding its own terms, while the component's gradients are in cache.
            (terms.topKReconstruction, terms.activationReconstruction) = sparsePass(p, g)
            terms.schatten = schattenPenalty()
        case .lpAttributions:
            // The mask needs the attributions first, so the parameter match writes every gradient alone.
            terms.parameterMatch = parameterMatchDifferences(p)
            forComponents { range, _ in
                for c in range {
                    for matrix in layout.layers.indices { parameterGradients(matrix, component: c, p, g, schattenUsage: nil) }
                }
            }
            (terms.lpSparsity, terms.schatten) = lpPass(p, g)
        }
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
            // The wide products (A^in: [d, k], B^out: [k, d]) go component by component, so each is read
            // once for all of its pairs instead of once per pair; every sum keeps the per-sample order.
            forEachPairByComponent { c, index in
                let w = pairW[l] + index * k
                w.update(repeating: 0, count: k)
                ck_vector_matrix(rM[l] + pairs[index].sample * d, a(p, matrix: 2 * l, component: c), d, k, w)
            }
            // Samples are independent: each writes only its own rows.
            inParallel(count: bs, cost: { self.pairStart[$0 + 1] - self.pairStart[$0] }) { samples, _ in
                for sample in samples {
                    let preRow = preM[l] + sample * h, postRow = postM[l] + sample * h, next = rM[l + 1] + sample * d
                    next.update(from: rM[l] + sample * d, count: d)
                    if let bias = bIn[l] { preRow.update(from: bias, count: h) } else { preRow.update(repeating: 0, count: h) }
                    for index in pairStart[sample]..<pairStart[sample + 1] {
                        ck_vector_matrix(pairW[l] + index * k, b(p, matrix: 2 * l, component: pairs[index].component), k, h, preRow)
                    }
                    for i in 0..<h { postRow[i] = max(preRow[i], 0) }
                    if let bias = bOut[l] { for j in 0..<d { next[j] += bias[j] } }
                }
            }
            forEachPairByComponent { c, index in
                let u = pairU[l] + index * k
                u.update(repeating: 0, count: k)
                ck_vector_matrix(postM[l] + pairs[index].sample * h, a(p, matrix: 2 * l + 1, component: c), h, k, u)
            }
            // r'_{l+1} += u B^out_c: each thread takes a slice of the columns and every pair, components in
            // order, so each row gets its terms in the per-sample order.
            inSlices(of: d) { columns in
                for c in 0..<components {
                    let bOutC = b(p, matrix: 2 * l + 1, component: c) + columns.lowerBound
                    for index in componentPairs[c] {
                        ck_vector_matrix_strided(pairU[l] + index * k, bOutC, k, columns.count, d,
                                                 rM[l + 1] + pairs[index].sample * d + columns.lowerBound)
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
    /// reconstruction losses, and every gradient: per component, the parameter match's and the
    /// Schatten penalty's written first (`parameterGradients`), then the pass's own terms added,
    /// all scaled by their coefficients.
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
        let usage = componentPairs.map { Float($0.count) }  // samples that keep each component
        // Backward: gradR holds ∂loss/∂r'_{l+1}. The gradients of each pair's inner activations and of
        // the residual, the wide products component by component as in the forward pass; then per
        // component (in parallel, its pairs in sample order): the gradients of A and B.
        Self.multiply(yM, wU, gradR, m: bs, n: d, k: outputs, transposeB: true)
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let h = widths[l]
            forEachPairByComponent { c, index in
                let du = dU + index * k
                du.update(repeating: 0, count: k)
                ck_matrix_vector(b(p, matrix: 2 * l + 1, component: c), gradR + pairs[index].sample * d, k, d, du)
            }
            inParallel(count: bs, cost: { self.pairStart[$0 + 1] - self.pairStart[$0] }) { samples, _ in
                for sample in samples {
                    let postRow = postM[l] + sample * h, preRow = preM[l] + sample * h
                    let dPost = dPre + sample * h
                    dPost.update(repeating: 0, count: h)
                    for index in pairStart[sample]..<pairStart[sample + 1] {
                        ck_matrix_vector(a(p, matrix: 2 * l + 1, component: pairs[index].component), dU + index * k, h, k, dPost)
                    }
                    let target = post[l] + sample * h
                    for i in 0..<h {
                        dPost[i] += actScale * (postRow[i] - target[i])
                        if preRow[i] <= 0 { dPost[i] = 0 }  // now ∂loss/∂pre'
                    }
                    (gradNext + sample * d).update(from: gradR + sample * d, count: d)  // the residual path
                    for index in pairStart[sample]..<pairStart[sample + 1] {
                        let dw = dW + index * k
                        dw.update(repeating: 0, count: k)
                        ck_matrix_vector(b(p, matrix: 2 * l, component: pairs[index].component), dPost, k, h, dw)
                    }
                }
            }
            // gradNext += A^in_c dw by slices of d, components in order (as the forward's last product).
            inSlices(of: d) { rows in
                for c in 0..<components {
                    let aInC = a(p, matrix: 2 * l, component: c) + rows.lowerBound * k
                    for index in componentPairs[c] {
                        ck_matrix_vector(aInC, dW + index * k, rows.count, k, gradNext + pairs[index].sample * d + rows.lowerBound)
                    }
                }
            }
            // A component's parameter-match products (4 of d h k multiply-adds) cost as much as the
            // rank-one terms (about 2 d k) of 2 h of its pairs.
            inParallel(count: components, cost: { self.componentPairs[$0].count + 2 * h }) { range, _ in
                for c in range {
                    parameterGradients(2 * l, component: c, p, g, schattenUsage: usage)
                    parameterGradients(2 * l + 1, component: c, p, g, schattenUsage: usage)
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

    /// The parameter match Σ_s ‖W_s − Σ_c A_sc B_sc‖² / n_params; leaves each matrix's difference
    /// D_s = W_s − Σ_c A_sc B_sc in `difference` for `parameterGradients`.
    private func parameterMatchDifferences(_ p: UnsafePointer<Float>) -> Double {
        var total = 0.0
        for (s, layer) in layout.layers.enumerated() {
            let (dIn, dOut) = (layer.inputs, layer.outputs)
            let diff = difference[s]
            // Each block of components is summed into its own slice of `partial`, in parallel.
            let partial = partialSums[s]
            forEachComponentBlock { index, block in
                let slice = partial + index * dIn * dOut
                for c in block {
                    Self.multiply(a(p, matrix: s, component: c), b(p, matrix: s, component: c), slice, m: dIn, n: dOut, k: rank,
                                  accumulate: c > block.lowerBound)
                }
            }
            diff.update(from: s % 2 == 0 ? wIn[s / 2] : wOut[s / 2], count: dIn * dOut)
            let blocks = (components + componentBlock - 1) / componentBlock
            for index in 0..<blocks { let slice = partial + index * dIn * dOut; for i in 0..<(dIn * dOut) { diff[i] -= slice[i] } }
            total += Double(BatchVectors.dot(diff, diff, dIn * dOut))
        }
        return total / Double(decomposedParameterCount)
    }

    /// Writes component c's gradients of decomposed matrix s over g: the parameter match's,
    /// ∂/∂A_c = −2 D B_cᵀ and ∂/∂B_c = −2 A_cᵀ D (times coefficient / n_params, with D from
    /// `parameterMatchDifferences`), then, given `schattenUsage`, adds the Schatten penalty's for a
    /// batch top-k mask that keeps component c for `schattenUsage[c]` samples; its term goes to `schattenTerms`.
    private func parameterGradients(_ s: Int, component c: Int, _ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                                    schattenUsage: [Float]?) {
        let (k, dIn, dOut) = (rank, layout.layers[s].inputs, layout.layers[s].outputs)
        let nParameters = Float(decomposedParameterCount)
        let aC = a(p, matrix: s, component: c), bC = b(p, matrix: s, component: c)
        let (gA, gB) = (g + (aC - p), g + (bC - p))
        let scale = -2 * Float(settings.parameterMatchCoefficient) / nParameters
        Self.multiply(difference[s], bC, gA, m: dIn, n: k, k: dOut, transposeB: true, alpha: scale)
        Self.multiply(aC, difference[s], gB, m: k, n: dOut, k: dIn, transposeA: true, alpha: scale)
        guard let usage = schattenUsage else { return }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * k) { sums in
            let (sa, sb, factorA, factorB) = (sums.baseAddress!, sums.baseAddress! + k, sums.baseAddress! + 2 * k, sums.baseAddress! + 3 * k)
            SchattenPenalty.squaredNorms(a: aC, b: bC, inputs: dIn, rank: k, outputs: dOut, sa: sa, sb: sb)
            schattenTerms[s * components + c] = SchattenPenalty.binaryTerm(
                sa: sa, sb: sb, rank: k, usage: usage[c], batchSize: batch, p: Float(settings.schattenP),
                scale: Float(settings.schattenCoefficient) / (nParameters * Float(batch)), factorA: factorA, factorB: factorB)
            SchattenPenalty.addGradient(a: aC, b: bC, inputs: dIn, rank: k, outputs: dOut, factorA: factorA, factorB: factorB,
                                        gradientA: gA, gradientB: gB)
        }
    }

    /// The Schatten penalty of the batch top-k mask from the terms `parameterGradients` left, summed
    /// in component order, so that it does not depend on the thread count either.
    private func schattenPenalty() -> Double {
        let penalty = (0..<(layout.layers.count * components)).reduce(0.0) { $0 + schattenTerms[$1] }
        return penalty / Double(decomposedParameterCount * batch)
    }

    /// The L_p variant after the parameter match: per component (in parallel), its attributions, its
    /// L_p mask and penalty (`LpAttributionPenalty`), its Schatten penalty weighted by that mask, and
    /// both penalties' gradients (scaled by their coefficients) added to g, through the attributions
    /// for the mask. Returns the L_p penalty Σ_c mean_b mask and the Schatten penalty.
    ///
    /// A pair's mask depends only on its own attribution, and the Schatten term of component c only
    /// on c's mask row and weights, so each component's forward and backward run in one pass.
    private func lpPass(_ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>) -> (Double, Double) {
        let (bs, k) = (batch, rank)
        let nParameters = decomposedParameterCount
        let schattenScale = Float(settings.schattenCoefficient) / (Float(nParameters) * Float(bs))
        let lpScale = Float(settings.lpSparsityCoefficient) / Float(bs)
        let activeInputs = sparseInputs()
        componentProducts(p)
        forComponents { range, t in
            let s = threadScratch[t]
            for c in range {
                componentAttributions(c, p, s, activeInputs)
                let (row, maskRow, slope, dMaskRow) = (attribution + c * bs, mask + c * bs, lpSlope + c * bs, dMask + c * bs)
                lpTerms[c] = LpAttributionPenalty.evaluate(attributions: row, count: bs, outputs: outputs, p: Float(settings.lpSparsityP),
                                                           mask: maskRow, slope: slope)
                dMaskRow.update(repeating: 0, count: bs)
                for (m, layer) in layout.layers.enumerated() {
                    let aC = a(p, matrix: m, component: c), bC = b(p, matrix: m, component: c)
                    schattenTerms[m * components + c] = SchattenPenalty.accumulate(
                        a: aC, b: bC, components: 1, inputs: layer.inputs, rank: k, outputs: layer.outputs, mask: maskRow,
                        batchSize: bs, binary: false, p: Float(settings.schattenP), scale: schattenScale,
                        gradientA: g + (aC - p), gradientB: g + (bC - p), gradientMask: dMaskRow)
                }
                // ∂total/∂Attr = ∂mask/∂Attr · (the penalty's coefficient / batch + ∂Schatten/∂mask), in place.
                for sample in 0..<bs { slope[sample] *= lpScale + dMaskRow[sample] }
                backpropagateAttributions(c, p, g, s, activeInputs)
            }
        }
        // Summed in component order, so the reported penalties do not depend on the thread count.
        let lp = (0..<components).reduce(0.0) { $0 + lpTerms[$1] }
        let penalty = (0..<(layout.layers.count * components)).reduce(0.0) { $0 + schattenTerms[$1] }
        return (lp / Double(bs), penalty / Double(nParameters * bs))
    }

    /// Adds ∂total/∂Attr[c, ·] (in `lpSlope`) times ∂Attr[c, ·]/∂(A, B of component c) to g, reversing
    /// `componentAttributions`, whose intermediates `s` still holds. The target's activations, ReLU
    /// pattern and weights are constants, as in the reference.
    private func backpropagateAttributions(_ c: Int, _ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                                           _ s: AttributionScratch, _ activeInputs: [[(Int, Float)]]?) {
        let (bs, k, d) = (batch, rank, embedding)
        // Attr[b] = Σ_o t[b,o]²  ⇒  ∂/∂t[b,o] = 2 t[b,o] ∂/∂Attr[b]; t becomes its gradient.
        let dAttr = lpSlope + c * bs
        for sample in 0..<bs {
            let scale = 2 * dAttr[sample], row = s.t + sample * outputs
            for o in 0..<outputs { row[o] *= scale }
        }
        for l in 0..<layerCount {
            s.gradDPost[l].update(repeating: 0, count: bs * widths[l])
            s.gradU[l].update(repeating: 0, count: bs * k)
        }
        func gradient(_ matrix: UnsafePointer<Float>) -> UnsafeMutablePointer<Float> { g + (matrix - p) }
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let h = widths[l]
            let (aIn, bIn) = (a(p, matrix: 2 * l, component: c), b(p, matrix: 2 * l, component: c))
            let (aOut, bOut) = (a(p, matrix: 2 * l + 1, component: c), b(p, matrix: 2 * l + 1, component: c))
            // t += Δpost_l (W^out_l W_U) + u_l (B^out_lc W_U)
            Self.multiply(s.t, outU[l], s.gradDPost[l], m: bs, n: h, k: outputs, transposeB: true, accumulate: true)
            Self.multiply(s.t, bOutU[l] + c * k * outputs, s.gradU[l], m: bs, n: k, k: outputs, transposeB: true, accumulate: true)
            Self.multiply(s.u[l], s.t, s.product, m: k, n: outputs, k: bs, transposeA: true)
            Self.multiply(s.product, wU, gradient(bOut), m: k, n: d, k: outputs, transposeB: true, accumulate: true)
            // u_l = post_l A^out_lc (every later use of u_l has added its part by now)
            Self.multiply(post[l], s.gradU[l], gradient(aOut), m: h, n: k, k: bs, transposeA: true, accumulate: true)
            // Δpost_l = act_l ⊙ Δpre_l; Δpre_l = inner_l B^in_lc + Σ_{l' < l} Δpost_l' (W^out_l' W^in_l) + u_l' (B^out_l'c W^in_l)
            let gradPre = s.dPre
            BatchVectors.multiply(active[l], s.gradDPost[l], gradPre, bs * h)
            Self.multiply(s.inner[l], gradPre, gradient(bIn), m: k, n: h, k: bs, transposeA: true, accumulate: true)
            Self.multiply(gradPre, bIn, s.gradInner, m: bs, n: k, k: h, transposeB: true)
            for earlier in 0..<l {
                let hEarlier = widths[earlier]
                Self.multiply(gradPre, outIn[earlier][l]!, s.gradDPost[earlier], m: bs, n: hEarlier, k: h, transposeB: true, accumulate: true)
                Self.multiply(gradPre, bOutIn[earlier][l]! + c * k * h, s.gradU[earlier], m: bs, n: k, k: h, transposeB: true, accumulate: true)
                Self.multiply(s.u[earlier], gradPre, s.product, m: k, n: h, k: bs, transposeA: true)
                Self.multiply(s.product, wIn[l], gradient(b(p, matrix: 2 * earlier + 1, component: c)), m: k, n: d, k: h,
                              transposeB: true, accumulate: true)
            }
            // inner_l = r_l A^in_lc, with r_0 = x W_E: through xᵀ ∂inner ([inputs, k]) as the forward pass.
            if l == 0 {
                let gradEmbedded = s.embedded
                if let active = activeInputs {
                    gradEmbedded.update(repeating: 0, count: inputs * k)
                    for sample in 0..<bs {
                        for (f, value) in active[sample] { BatchVectors.axpy(value, s.gradInner + sample * k, gradEmbedded + f * k, k) }
                    }
                } else {
                    Self.multiply(x, s.gradInner, gradEmbedded, m: inputs, n: k, k: bs, transposeA: true)
                }
                Self.multiply(wE, gradEmbedded, gradient(aIn), m: d, n: k, k: inputs, transposeA: true, accumulate: true)
            } else {
                Self.multiply(r[l], s.gradInner, gradient(aIn), m: d, n: k, k: bs, transposeA: true, accumulate: true)
            }
        }
    }
}

/// A value handed to parallel workers that only touch disjoint parts of it.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
