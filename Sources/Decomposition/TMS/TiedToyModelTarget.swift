import TensorCore
import ToyModels

/// A trained ReLU-output toy model of superposition as an APD target:
///
///     h = x W,  out = ReLU(h Wᵀ + b)        W: [n, m] per instance (the toy model's W transposed)
///
/// W is decomposed once, W ≈ Σ_c A_c B_c; the second layer uses the same components transposed
/// (A'_c = B_cᵀ, B'_c = A_cᵀ), as the reference's `TransposedLinearComponent`. Both layers count in
/// the attributions, the Schatten penalty and n_params = 2nm, as there. The bias is frozen. The
/// objective is the mean over instances of each instance's loss, as the reference's, so a step's
/// gradient is its instance's gradient over `instanceCount`.
public struct TiedToyModelTarget: DecomposableTarget {
    public let model: ToyModel
    public let inputDistribution: FeatureDistribution

    /// - Parameter distribution: `[instance, n]`, the data the target was trained on.
    public init(model: ToyModel, distribution: FeatureDistribution) {
        precondition(model.kind == .reluOutput, "APD's TMS target is the ReLU-output model")
        precondition(distribution.instanceCount == model.instanceCount && distribution.featureCount == model.featureCount,
                     "distribution must be [instance, n] of the model")
        self.model = model
        self.inputDistribution = distribution
    }

    public var instanceCount: Int { model.instanceCount }
    public var inputCount: Int { model.featureCount }
    public var layers: [DecomposedLayer] { [DecomposedLayer(name: "W", inputs: model.featureCount, outputs: model.hiddenCount)] }

    /// `[n, m]`: the toy model's `W[instance]: [m, n]` transposed.
    public func targetWeight(layer: Int, instance: Int) -> [Float] {
        let (m, n) = (model.hiddenCount, model.featureCount)
        let w = model.weights.scalars[(instance * m * n)..<((instance + 1) * m * n)]
        var out = [Float](repeating: 0, count: n * m)
        for j in 0..<m { for i in 0..<n { out[i * m + j] = w[w.startIndex + j * n + i] } }
        return out
    }

    public func makeInputSampler(instance: Int, seed: UInt64) -> any InputSampler {
        FeatureInputSampler(distribution: inputDistribution, instance: instance, seed: seed)
    }

    public func makeStep(instance: Int, settings: APDSettings) -> any DecompositionStep {
        let n = model.featureCount
        return TiedToyModelStep(weight: targetWeight(layer: 0, instance: instance),
                                bias: Array(model.bias.scalars[(instance * n)..<((instance + 1) * n)]),
                                features: n, hidden: model.hiddenCount, instances: instanceCount, settings: settings)
    }
}
