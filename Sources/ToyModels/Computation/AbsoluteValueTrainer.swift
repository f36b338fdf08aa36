import Foundation
import TensorCore

/// The result of training an `AbsoluteValueModel`.
public typealias AbsoluteValueTrainingResult = TrainingResult<AbsoluteValueModel>

/// Trains `AbsoluteValueModel`s with AdamW on sparse features x_i ∈ U[−1, 1] (the distribution's
/// values), target |x|, using the fused `AbsoluteValueKernel` (see `InstanceParallelTrainer`).
public enum AbsoluteValueTrainer {
    /// Trains a freshly initialised model (weights from the seed's initialisation stream).
    /// - Parameter importance: `[instance, n]`.
    public static func train(neurons m: Int, distribution: FeatureDistribution, importance: Tensor,
                             settings: TrainingSettings,
                             progress: (@Sendable (TrainingProgress) -> Void)? = nil) -> AbsoluteValueTrainingResult {
        var generator = RandomGenerator(seed: settings.seed, stream: RandomStreams.initialization)
        let model = AbsoluteValueModel(instances: distribution.instanceCount, features: distribution.featureCount,
                                       neurons: m, generator: &generator)
        return InstanceParallelTrainer.train(model, distribution: distribution, importance: importance,
                                             settings: settings, progress: progress)
    }
}

extension AbsoluteValueModel: InstanceParallelModel {
    public var parameters: [Tensor] {
        get { [inputWeights, outputWeights, bias] }
        set { inputWeights = newValue[0]; outputWeights = newValue[1]; bias = newValue[2] }
    }

    public func makeStep(batchSize: Int) -> any InstanceStep {
        AbsoluteValueStep(kernel: AbsoluteValueKernel(neuronCount: neuronCount, featureCount: featureCount, batchSize: batchSize))
    }
}

struct AbsoluteValueStep: InstanceStep {
    let kernel: AbsoluteValueKernel

    func lossAndGradients(input: UnsafePointer<Float>, importance: UnsafePointer<Float>,
                          parameters: [UnsafePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) -> Float {
        kernel.lossAndGradients(input: input, inputWeights: parameters[0], outputWeights: parameters[1],
                                bias: parameters[2], importance: importance, inputWeightGradient: gradients[0],
                                outputWeightGradient: gradients[1], biasGradient: gradients[2])
    }
}
