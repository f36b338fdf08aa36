import Foundation
import TensorCore

/// The Toy Models of Superposition autoencoder, many instances side by side.
///
///     h  = W x                  W: [instance, m, n], x: [instance, batch, n]
///     x' = ReLU(Wᵀ h + b)       (reluOutput)   or   x' = Wᵀ h + b   (linear)
///
/// Loss: importance-weighted squared error, mean over batch and features, summed over instances,
/// as in Anthropic's reference notebook.
public struct ToyModel: Equatable, Sendable {
    public enum Kind: String, Codable, CaseIterable, Sendable {
        /// x' = ReLU(WᵀWx + b): the model that superposes sparse features.
        case reluOutput
        /// x' = WᵀWx + b: represents only the m most important features.
        case linear
    }

    public var kind: Kind
    /// `[instance, m, n]`; column i of an instance is feature i's direction W_i.
    public var weights: Tensor
    /// `[instance, n]`.
    public var bias: Tensor

    public var instanceCount: Int { weights.shape[0] }
    public var hiddenCount: Int { weights.shape[1] }
    public var featureCount: Int { weights.shape[2] }

    public init(kind: Kind, weights: Tensor, bias: Tensor) {
        precondition(weights.rank == 3 && bias.shape == [weights.shape[0], weights.shape[2]],
                     "weights must be [instance, m, n] and bias [instance, n]; got \(weights.shape), \(bias.shape)")
        self.kind = kind
        self.weights = weights
        self.bias = bias
    }

    /// A freshly initialised model: Xavier-normal weights as `torch.nn.init.xavier_normal_` gives the
    /// notebook's `[instance, n, m]` parameter, i.e. std = √(2 / (m·(n + instances))), and zero bias.
    public init(kind: Kind, instances: Int, features n: Int, hidden m: Int, generator: inout RandomGenerator) {
        let standardDeviation = Float((2.0 / Double(m * (n + instances))).squareRoot())
        self.init(kind: kind,
                  weights: .normal([instances, m, n], standardDeviation: standardDeviation, using: &generator),
                  bias: Tensor(zeros: [instances, n]))
    }

    /// The reconstruction x' of a dense input `x: [instance, batch, n]` -> `[instance, batch, n]`.
    public func reconstruct(_ x: Tensor) -> Tensor {
        let tape = Tape()
        return output(tape: tape, weights: tape.constant(weights), bias: tape.constant(bias), input: tape.constant(x)).value
    }

    /// The model as differentiable operations on a tape: `x: [instance, batch, n]` -> x'.
    /// The training loop uses the fused `ToyModelKernel`; this composition is its reference.
    public func output(tape: Tape, weights: Variable, bias: Variable, input: Variable) -> Variable {
        let hidden = input.matmul(weights, transposeOther: true)                 // [instance, batch, m]
        let preactivation = hidden.matmul(weights)
            + bias.reshaped([instanceCount, 1, featureCount])                    // [instance, batch, n]
        return kind == .reluOutput ? preactivation.relu() : preactivation
    }

    /// The loss per instance on a dense batch `x: [instance, batch, n]` with `importance: [instance, n]`.
    public func lossPerInstance(_ x: Tensor, importance: Tensor) -> [Float] {
        let error = reconstruct(x) - x
        let weighted = error * error * importance.reshaped([instanceCount, 1, featureCount])
        return weighted.mean(alongAxes: [1, 2]).scalars
    }
}
