@testable import Decomposition

extension DecompositionStep {
    /// `lossAndGradients` on arrays: x: `[batch, inputs]`, p laid out by `ComponentLayout`; returns the
    /// loss terms and the gradient (same layout as p).
    func lossAndGradient(input x: [Float], parameters p: [Float]) -> (terms: APDLossTerms, gradient: [Float]) {
        var g = [Float](repeating: 0, count: p.count)
        let terms = x.withUnsafeBufferPointer { xs in
            p.withUnsafeBufferPointer { ps in
                g.withUnsafeMutableBufferPointer { lossAndGradients(input: xs.baseAddress!, parameters: ps.baseAddress!, gradients: $0.baseAddress!) }
            }
        }
        return (terms, g)
    }
}
