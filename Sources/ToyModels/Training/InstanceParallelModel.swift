import TensorCore

/// A model made of independent instances trained side by side: every parameter tensor has a
/// leading instance axis, and an instance's loss depends only on its own slices. The Toy Models
/// notebook's trick; `InstanceParallelTrainer` trains any such model.
public protocol InstanceParallelModel: Equatable, Sendable {
    var instanceCount: Int { get }
    var featureCount: Int { get }
    /// The trainable tensors, each `[instance, ...]`, in a fixed order.
    var parameters: [Tensor] { get set }
    /// A fused step for one instance at a time, holding whatever scratch space it needs.
    func makeStep(batchSize: Int) -> any InstanceStep
}

/// The loss and gradients of one instance on one batch.
public protocol InstanceStep {
    /// - Parameters:
    ///   - input: `x: [batch, n]` of this instance; `importance`: `[n]`.
    ///   - parameters: this instance's slice of each parameter tensor, in `parameters` order.
    ///   - gradients: where to write the gradient of each slice (overwritten).
    /// - Returns: the loss, mean over batch and features of the importance-weighted error.
    func lossAndGradients(input: UnsafePointer<Float>, importance: UnsafePointer<Float>,
                          parameters: [UnsafePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) -> Float
}

/// The result of training: the model, its loss curves and its final losses.
public struct TrainingResult<Model: InstanceParallelModel>: Sendable {
    public var model: Model
    public var history: TrainingHistory
    /// Per-instance loss on fresh evaluation batches after training.
    public var evaluationLoss: [Float]
    /// Per-instance loss of the last training batch.
    public var finalTrainingLoss: [Float]
}
