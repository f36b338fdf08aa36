import Foundation

/// The factorised Schatten-p penalty of one decomposed layer (the paper's Appendix A.2.2):
///
///     Σ_b Σ_c Σ_k (mask[c,b] · S_A[c,k] · S_B[c,k] + ε)^(p/2),
///     S_A[c,k] = Σ_i A[c,i,k]²,  S_B[c,k] = Σ_j B[c,k,j]²,  ε = 1e-16
///
/// For a rank-one component (k = 1) the term is σ^p, σ = ‖a‖·‖b‖ the one singular value of a bᵀ;
/// for higher rank it bounds Σ σ^p from above. The mask weighs each (component, sample): 0/1 for
/// batch top-k, the L_p attribution penalty for the Appendix A.2.3 variant.
public enum SchattenPenalty {
    /// The reference adds this inside the power so that p < 2 has a finite gradient at 0.
    public static let epsilon: Float = 1e-16

    /// Adds `scale ·` the penalty's gradient to `gradientA`, `gradientB` (and, for a continuous mask,
    /// `gradientMask`) and returns the penalty itself (unscaled).
    /// - Parameters:
    ///   - a: `[C, dIn, rank]`; b: `[C, rank, dOut]`.
    ///   - mask: `[C, batch]` weights. When `binary`, entries are 0 or 1 and only their count per
    ///     component matters (fast path).
    ///   - gradientA, gradientB: shaped like a and b; gradientMask: like mask (continuous masks only).
    @discardableResult
    public static func accumulate(a: UnsafePointer<Float>, b: UnsafePointer<Float>, components: Int, inputs dIn: Int,
                                  rank: Int, outputs dOut: Int, mask: UnsafePointer<Float>, batchSize: Int, binary: Bool,
                                  p: Float, scale: Float, gradientA: UnsafeMutablePointer<Float>?,
                                  gradientB: UnsafeMutablePointer<Float>?, gradientMask: UnsafeMutablePointer<Float>? = nil) -> Double {
        var total = 0.0
        var sums = [Float](repeating: 0, count: 4 * rank)
        sums.withUnsafeMutableBufferPointer { sums in
            let (sa, sb, factorA, factorB) = (sums.baseAddress!, sums.baseAddress! + rank, sums.baseAddress! + 2 * rank, sums.baseAddress! + 3 * rank)
            for c in 0..<components {
                let row = mask + c * batchSize
                let ac = a + c * dIn * rank, bc = b + c * rank * dOut
                squaredNorms(a: ac, b: bc, inputs: dIn, rank: rank, outputs: dOut, sa: sa, sb: sb)
                if binary {
                    // Entries 0 or 1: whole numbers, whose float sum is exact in any order, so eight
                    // partial sums give the bits of one (and do not wait on each other's adds).
                    let usage = BatchVectors.sumOfWholeNumbers(row, batchSize)
                    total += binaryTerm(sa: sa, sb: sb, rank: rank, usage: usage, batchSize: batchSize, p: p, scale: scale,
                                        factorA: factorA, factorB: factorB)
                } else {
                    for r in 0..<rank {
                        // d/dS Σ_b (w_b S + ε)^(p/2) = Σ_b (p/2)(w_b S + ε)^(p/2 − 1) w_b
                        let s = sa[r] * sb[r]
                        var dS: Float = 0
                        for t in 0..<batchSize {
                            // One power per pair: (p/2)·value^(p/2 − 1) = (p/2)·value^(p/2) / value, value ≥ ε > 0.
                            let w = row[t], value = w * s + epsilon, power = pow(value, p / 2)
                            total += Double(power)
                            let slope = (p / 2) * (power / value)
                            dS += slope * w
                            gradientMask?[c * batchSize + t] += scale * slope * s
                        }
                        (factorA[r], factorB[r]) = gradientFactors(dS: dS, sa: sa[r], sb: sb[r], scale: scale)
                    }
                }
                guard let gradientA, let gradientB, (0..<rank).contains(where: { factorA[$0] != 0 || factorB[$0] != 0 }) else { continue }
                addGradient(a: ac, b: bc, inputs: dIn, rank: rank, outputs: dOut, factorA: factorA, factorB: factorB,
                            gradientA: gradientA + c * dIn * rank, gradientB: gradientB + c * rank * dOut)
            }
        }
        return total
    }

    /// S_A[k] = Σ_i A[i,k]² and S_B[k] = Σ_j B[k,j]² of one component: a: `[dIn, rank]`, b: `[rank, dOut]`.
    static func squaredNorms(a: UnsafePointer<Float>, b: UnsafePointer<Float>, inputs dIn: Int, rank: Int, outputs dOut: Int,
                             sa: UnsafeMutablePointer<Float>, sb: UnsafeMutablePointer<Float>) {
        // Rows of A are contiguous over the rank, so its sums run row by row.
        sa.update(repeating: 0, count: rank)
        for i in 0..<dIn { BatchVectors.addSquares(a + i * rank, sa, rank) }
        for r in 0..<rank { sb[r] = BatchVectors.dot(b + r * dOut, b + r * dOut, dOut) }
    }

    /// The penalty of one component under a binary mask that keeps it for `usage` of `batchSize`
    /// samples, and its gradient factors (see `gradientFactors`).
    static func binaryTerm(sa: UnsafePointer<Float>, sb: UnsafePointer<Float>, rank: Int, usage: Float, batchSize: Int,
                           p: Float, scale: Float, factorA: UnsafeMutablePointer<Float>, factorB: UnsafeMutablePointer<Float>) -> Double {
        let idle = pow(Double(epsilon), Double(p) / 2)
        var total = 0.0
        for r in 0..<rank {
            let active = sa[r] * sb[r] + epsilon
            total += Double(usage) * pow(Double(active), Double(p) / 2) + (Double(batchSize) - Double(usage)) * idle
            // d/dS of usage · (S + ε)^(p/2)
            (factorA[r], factorB[r]) = gradientFactors(dS: usage * (p / 2) * pow(active, p / 2 - 1), sa: sa[r], sb: sb[r], scale: scale)
        }
        return total
    }

    /// `scale ·` the penalty's gradient is factorA[k] · A[i,k] and factorB[k] · B[k,j]: dS/dA = 2A·S_B, dS/dB = 2B·S_A.
    @inline(__always)
    static func gradientFactors(dS: Float, sa: Float, sb: Float, scale: Float) -> (Float, Float) {
        let d = dS * (scale * 2)
        return (d * sb, d * sa)
    }

    /// gradientA += factorA ⊙ A (per column), gradientB += factorB ⊙ B (per row), for one component.
    static func addGradient(a: UnsafePointer<Float>, b: UnsafePointer<Float>, inputs dIn: Int, rank: Int, outputs dOut: Int,
                            factorA: UnsafePointer<Float>, factorB: UnsafePointer<Float>,
                            gradientA: UnsafeMutablePointer<Float>, gradientB: UnsafeMutablePointer<Float>) {
        for i in 0..<dIn { BatchVectors.addProduct(factorA, a + i * rank, gradientA + i * rank, rank) }
        for r in 0..<rank where factorB[r] != 0 { BatchVectors.axpy(factorB[r], b + r * dOut, gradientB + r * dOut, dOut) }
    }
}
