import Foundation

/// The L_p penalty on the attributions of the paper's Appendix A.2.3, the alternative to batch top-k:
///
///     mask[c,b] = (Attr[c,b] / outputs + ε)^(p/2),   penalty = Σ_c mean_b mask[c,b]
///
/// Attributions are divided by the number of model outputs, as the reference does, so the penalty
/// does not grow with the output width. The same per-pair mask weighs the Schatten penalty
/// (`SchattenPenalty` with a continuous mask), so its gradient reaches the attributions twice.
public enum LpAttributionPenalty {
    /// Fills `mask` with each pair's penalty and `slope` with ∂mask/∂Attr, and returns Σ over the
    /// `count` pairs of mask (divide by the batch size for Σ_c mean_b).
    /// - Parameters:
    ///   - attributions, mask, slope: `count` pairs each (any layout, the same for all three).
    ///   - outputs: the model's output width, the attributions' normaliser.
    @discardableResult
    public static func evaluate(attributions: UnsafePointer<Float>, count: Int, outputs: Int, p: Float,
                                mask: UnsafeMutablePointer<Float>, slope: UnsafeMutablePointer<Float>) -> Double {
        let normaliser = 1 / Float(outputs)
        var total = 0.0
        for i in 0..<count {
            let value = attributions[i] * normaliser + SchattenPenalty.epsilon
            let power = pow(value, p / 2)
            mask[i] = power
            total += Double(power)
            // d/dA (A/n + ε)^(p/2) = (p/2) (A/n + ε)^(p/2 − 1) / n, with one power: value ≥ ε > 0.
            slope[i] = (p / 2) * (power / value) * normaliser
        }
        return total
    }
}
