import Foundation

/// ΔL(U_ij) = L(U with U_ij = 0) − L(U) for every virtual weight of a `LiftedModel`, on an evaluation set.
///
/// Zeroing U_ij changes only output i, and only on samples with x_j ≠ 0, by −U_ij·x_j. So with
/// pre_i = (U x + b)_i computed once per sample, every ablation is one more ReLU per (output i,
/// present input j): all n² values cost Σ_samples n · nnz(x), about one lifted forward pass.
public struct WeightAblation: Equatable, Sendable {
    public var featureCount: Int
    /// Row-major `[n, n]`: `deltaLoss[i * n + j]` = ΔL(U_ij).
    public var deltaLoss: [Double]
    /// L(U) on the same set and scale.
    public var baseLoss: Double
    public var reduction: LiftedModel.Reduction
    public var sampleCount: Int

    public func delta(_ i: Int, _ j: Int) -> Double { deltaLoss[i * featureCount + j] }
}

/// Per-weight statistics of the lifted model over an evaluation set, for the heuristic scores.
public struct LiftedStatistics: Equatable, Sendable {
    public var featureCount: Int
    public var sampleCount: Int
    /// Row-major `[n, n]` (output i, input j) expectations over samples.
    public var activeTimesInput: [Double]     // E[1(y'_i > 0) x_j]
    public var outputTimesInput: [Double]     // E[y'_i x_j]
    public var coFiring: [Double]             // E[1(y'_i > 0) 1(x_j > 0)]
    /// `[n]`: E[y'_i] and P(y'_i > 0).
    public var meanOutput: [Double]
    public var firingRate: [Double]
}

public enum InterferenceAnalysis {
    /// The note's threshold for Definition 2.
    public static let defaultEpsilon = 1e-4

    /// Exact ΔL for all n² weights in one pass (see `WeightAblation`). `x` is `[batch, n]` row-major;
    /// `targets` (`[batch, n]`) are what the lifted model is scored against, x itself when nil.
    public static func exactDeltaLoss(_ model: LiftedModel, evaluation x: [Float], targets: [Float]? = nil,
                                      reduction: LiftedModel.Reduction = .sumOverFeatures) -> WeightAblation {
        pass(model, x, targets, reduction: reduction, statistics: false).0
    }

    /// ΔL and the heuristic statistics together (one pass, a little more work per entry).
    public static func analyse(_ model: LiftedModel, evaluation x: [Float], targets: [Float]? = nil,
                               reduction: LiftedModel.Reduction = .sumOverFeatures) -> (WeightAblation, LiftedStatistics) {
        let (ablation, statistics) = pass(model, x, targets, reduction: reduction, statistics: true)
        return (ablation, statistics!)
    }

    /// The slow reference: one full ablated forward pass per weight. Holds for any model whose
    /// loss is `LiftedModel.loss`; used to check `exactDeltaLoss`.
    public static func bruteForceDeltaLoss(_ model: LiftedModel, evaluation x: [Float], targets: [Float]? = nil,
                                           reduction: LiftedModel.Reduction = .sumOverFeatures) -> WeightAblation {
        let n = model.featureCount
        let base = model.loss(x, targets: targets, reduction: reduction)
        var delta = [Double](repeating: 0, count: n * n)
        var ablated = model
        for index in 0..<(n * n) {
            let saved = ablated.virtualWeights[index]
            ablated.virtualWeights[index] = 0
            delta[index] = ablated.loss(x, targets: targets, reduction: reduction) - base
            ablated.virtualWeights[index] = saved
        }
        return WeightAblation(featureCount: n, deltaLoss: delta, baseLoss: base, reduction: reduction, sampleCount: x.count / max(n, 1))
    }

    /// Definition 2: a weight is real iff ΔL > ε.
    public static func realWeights(_ ablation: WeightAblation, epsilon: Double = defaultEpsilon) -> [Bool] {
        realWeights(deltaLoss: ablation.deltaLoss, epsilon: epsilon)
    }

    /// Definition 2 on ΔL values already computed (e.g. read back from metrics.json).
    public static func realWeights(deltaLoss: [Double], epsilon: Double = defaultEpsilon) -> [Bool] {
        deltaLoss.map { $0 > epsilon }
    }

    /// Definition 1: interference = observed − ideal weights (row-major `[n, n]`). For the tied toy
    /// model the ideal is the identity (`ideal: nil`).
    public static func interferenceWeights(_ model: LiftedModel, ideal: [Float]? = nil) -> [Float] {
        let target = ideal ?? identity(model.featureCount)
        return zip(model.virtualWeights, target).map { $0 - $1 }
    }

    /// The n × n identity, row-major: the tied toy model's ideal weights.
    public static func identity(_ n: Int) -> [Float] {
        (0..<(n * n)).map { $0 / n == $0 % n ? 1 : 0 }
    }

    /// Shrinkage as one number: the least-squares slope s of U ≈ s · ideal over the ideal's support,
    /// Σ U_ij·ideal_ij / Σ ideal_ij² (1: no shrinkage; 0 when the ideal is all zero).
    public static func shrinkageSlope(_ model: LiftedModel, ideal: [Float]) -> Double {
        var product = 0.0, square = 0.0
        for (u, a) in zip(model.virtualWeights, ideal) where a != 0 { product += Double(u) * Double(a); square += Double(a) * Double(a) }
        return square > 0 ? product / square : 0
    }

    static func pass(_ model: LiftedModel, _ x: [Float], _ targets: [Float]?, reduction: LiftedModel.Reduction,
                     statistics: Bool) -> (WeightAblation, LiftedStatistics?) {
        let n = model.featureCount
        precondition(n > 0 && x.count % n == 0, "evaluation set must be [batch, n] with n = \(n)")
        precondition(targets == nil || targets!.count == x.count, "targets must be [batch, n] like the evaluation set")
        let batch = x.count / n
        // Column-major U: column j (input j's outgoing weights) is contiguous.
        var columns = [Float](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { columns[j * n + i] = model.virtualWeights[i * n + j] } }
        var total = [Double](repeating: 0, count: n * n)       // [j, i]
        let statCount = statistics ? n * n : 0
        var activeX = [Double](repeating: 0, count: statCount), outX = activeX, coFire = activeX
        var meanOutput = [Double](repeating: 0, count: n), firing = meanOutput
        var baseTotal = 0.0
        // Scratch in raw buffers: the hot loops index plain pointers (no bounds checks or copies).
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            return p
        }
        let acc = buffer(n * n), chunkActiveX = buffer(statCount), chunkOutX = buffer(statCount), chunkCo = buffer(statCount)
        let pre = buffer(n), base = buffer(n), y = buffer(n), weight = buffer(n), bias = buffer(n)
        let present = UnsafeMutablePointer<Int>.allocate(capacity: n)
        defer {
            for p in [acc, chunkActiveX, chunkOutX, chunkCo, pre, base, y, weight, bias] { p.deallocate() }
            present.deallocate()
        }
        for i in 0..<n { weight[i] = model.importance[i]; bias[i] = model.bias[i] }
        let chunkSize = 256
        // Reconstruction scores against x itself: the same buffer serves as targets.
        let t = targets ?? x
        x.withUnsafeBufferPointer { xs in
            t.withUnsafeBufferPointer { ts in
                columns.withUnsafeBufferPointer { u in
                    for start in stride(from: 0, to: batch, by: chunkSize) {
                        let end = min(batch, start + chunkSize)
                        for b in start..<end {
                            let row = xs.baseAddress! + b * n, target = ts.baseAddress! + b * n
                            var count = 0
                            for j in 0..<n where row[j] != 0 { present[count] = j; count += 1 }
                            for i in 0..<n { pre[i] = bias[i] }
                            for p in 0..<count {
                                let j = present[p], xj = row[j], col = u.baseAddress! + j * n
                                for i in 0..<n { pre[i] += xj * col[i] }
                            }
                            var sampleBase: Float = 0
                            for i in 0..<n {
                                let out = max(0, pre[i])
                                y[i] = out
                                let e = out - target[i]
                                base[i] = e * e * weight[i]
                                sampleBase += base[i]
                            }
                            baseTotal += Double(sampleBase)
                            for p in 0..<count {
                                let j = present[p], xj = row[j], col = u.baseAddress! + j * n, a = acc + j * n
                                for i in 0..<n {
                                    let e = max(0, pre[i] - col[i] * xj) - target[i]
                                    a[i] += e * e * weight[i] - base[i]
                                }
                            }
                            if statistics {
                                for i in 0..<n {
                                    meanOutput[i] += Double(y[i])
                                    if y[i] > 0 { firing[i] += 1 }
                                }
                                for p in 0..<count {
                                    let j = present[p], xj = row[j]
                                    let ax = chunkActiveX + j * n, ox = chunkOutX + j * n, co = chunkCo + j * n
                                    let positive: Float = xj > 0 ? 1 : 0
                                    for i in 0..<n {
                                        let active: Float = y[i] > 0 ? 1 : 0
                                        ax[i] += active * xj
                                        ox[i] += y[i] * xj
                                        co[i] += active * positive
                                    }
                                }
                            }
                        }
                        for k in 0..<(n * n) { total[k] += Double(acc[k]); acc[k] = 0 }
                        if statistics {
                            for k in 0..<(n * n) {
                                activeX[k] += Double(chunkActiveX[k]); outX[k] += Double(chunkOutX[k]); coFire[k] += Double(chunkCo[k])
                                chunkActiveX[k] = 0; chunkOutX[k] = 0; chunkCo[k] = 0
                            }
                        }
                    }
                }
            }
        }
        let scale = 1 / Double(max(batch, 1)) / (reduction == .meanOverFeatures ? Double(n) : 1)
        let perSample = 1 / Double(max(batch, 1))
        func rowMajor(_ columnMajor: [Double], _ factor: Double) -> [Double] {
            var out = [Double](repeating: 0, count: n * n)
            for i in 0..<n { for j in 0..<n { out[i * n + j] = columnMajor[j * n + i] * factor } }
            return out
        }
        let ablation = WeightAblation(featureCount: n, deltaLoss: rowMajor(total, scale), baseLoss: baseTotal * scale,
                                      reduction: reduction, sampleCount: batch)
        guard statistics else { return (ablation, nil) }
        return (ablation, LiftedStatistics(featureCount: n, sampleCount: batch,
                                           activeTimesInput: rowMajor(activeX, perSample), outputTimesInput: rowMajor(outX, perSample),
                                           coFiring: rowMajor(coFire, perSample),
                                           meanOutput: meanOutput.map { $0 * perSample }, firingRate: firing.map { $0 * perSample }))
    }
}
