import Foundation

/// How well components line up with the target's feature directions (the paper's Table 1):
/// for each feature f, the component c whose row (A_c B_c)[f, :] has the highest cosine with the
/// target's row W[f, :] (for TMS, feature f's direction in the hidden space).
///
///     MMCS = mean_f max_c cos(W[f], (A_c B_c)[f])
///     ML2R = mean_f ‖(A_c* B_c*)[f]‖ / ‖W[f]‖   at that best c*
public struct ComponentAlignment: Codable, Equatable, Sendable {
    public var meanMaxCosineSimilarity: Double
    public var meanL2Ratio: Double
    /// Per feature: the best component, its cosine and its norm ratio.
    public var bestComponent: [Int]
    public var cosine: [Double]
    public var l2Ratio: [Double]
    /// Per feature: the component holding the largest share of its row (by norm).
    public var largestComponent: [Int]
    /// Every feature has its own component: the components holding the largest part of each
    /// feature's row are all different, and each is also that feature's best-aligned component.
    /// False when APD merged features into one component or spread a feature over several
    /// (the paper reports some TMS 5-2 instances merge features, with MMCS about 0.97).
    public var separatesFeatures: Bool
    /// Features whose best-aligned component is also another feature's best: APD merged them into
    /// one component. A rank-1 component holding two features whose directions have cosine ρ scores
    /// about √((1 − ρ)/2) on each (0.87 at ρ = −0.5, the usual pair in TMS 40-10), so each merged
    /// pair costs MMCS about 0.13 · 2 / n. Nil in metrics written before it was recorded.
    public var mergedFeatures: [Int]?

    /// - Parameters:
    ///   - target: `[rows, columns]` row-major (TMS: W as `[n, m]`).
    ///   - components: each component's `[rows, columns]` weight.
    public init(target: [Float], components: [[Float]], rows: Int, columns: Int) {
        precondition(target.count == rows * columns && components.allSatisfy { $0.count == rows * columns }, "shapes differ")
        func norm(_ w: [Float], _ r: Int) -> Double {
            var s = 0.0
            for j in 0..<columns { s += Double(w[r * columns + j]) * Double(w[r * columns + j]) }
            return s.squareRoot()
        }
        var best = [Int](), cosines = [Double](), ratios = [Double](), largest = [Int]()
        for f in 0..<rows {
            let targetNorm = norm(target, f)
            var bestCosine = -Double.infinity, bestIndex = 0
            for (c, w) in components.enumerated() {
                var dot = 0.0
                for j in 0..<columns { dot += Double(target[f * columns + j]) * Double(w[f * columns + j]) }
                let denominator = targetNorm * norm(w, f)
                let cosine = denominator > 0 ? dot / denominator : 0
                if cosine > bestCosine { bestCosine = cosine; bestIndex = c }
            }
            best.append(bestIndex)
            largest.append(components.indices.max { norm(components[$0], f) < norm(components[$1], f) } ?? 0)
            cosines.append(bestCosine)
            ratios.append(targetNorm > 0 ? norm(components[bestIndex], f) / targetNorm : 0)
        }
        bestComponent = best
        cosine = cosines
        l2Ratio = ratios
        meanMaxCosineSimilarity = cosines.reduce(0, +) / Double(max(rows, 1))
        meanL2Ratio = ratios.reduce(0, +) / Double(max(rows, 1))
        largestComponent = largest
        separatesFeatures = Set(largest).count == rows && largest == best
        let featuresPerComponent = Dictionary(best.map { ($0, 1) }, uniquingKeysWith: +)
        mergedFeatures = (0..<rows).filter { featuresPerComponent[best[$0], default: 0] > 1 }
    }

    /// "separates", "merges N features" or "does not separate" (a feature spread over components).
    public var verdict: String {
        let merged = mergedFeatures?.count ?? 0
        return separatesFeatures ? "separates" : merged > 0 ? "merges \(merged) features" : "does not separate"
    }
}
