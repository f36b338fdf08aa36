import Foundation
import TensorCore

/// The absolute-value model of *Toy Models of Superposition*, section 8 ("computation in
/// superposition"), many instances side by side:
///
///     h  = ReLU(W1 x)           W1: [instance, m, n], x: [instance, batch, n], x_i ∈ U[−1, 1] when present
///     y  = ReLU(W2 h + b)       W2: [instance, n, m], b: [instance, n]
///     target |x|
///
/// Row k of an instance's W1 is neuron k's input weights (which features it reads, with sign);
/// column k of its W2 is the neuron's output weights. Loss: importance-weighted squared error,
/// mean over batch and features, summed over instances (as `ToyModel`).
public struct AbsoluteValueModel: Equatable, Sendable {
    /// `[instance, m, n]`.
    public var inputWeights: Tensor
    /// `[instance, n, m]`.
    public var outputWeights: Tensor
    /// `[instance, n]`.
    public var bias: Tensor

    public var instanceCount: Int { inputWeights.shape[0] }
    public var neuronCount: Int { inputWeights.shape[1] }
    public var featureCount: Int { inputWeights.shape[2] }

    public init(inputWeights: Tensor, outputWeights: Tensor, bias: Tensor) {
        precondition(inputWeights.rank == 3, "W1 must be [instance, m, n], got \(inputWeights.shape)")
        let (i, m, n) = (inputWeights.shape[0], inputWeights.shape[1], inputWeights.shape[2])
        precondition(outputWeights.shape == [i, n, m] && bias.shape == [i, n],
                     "W2 must be [instance, n, m] = \([i, n, m]) and b [instance, n]; got \(outputWeights.shape), \(bias.shape)")
        self.inputWeights = inputWeights
        self.outputWeights = outputWeights
        self.bias = bias
    }

    /// A freshly initialised model: Xavier-normal W1 and W2 (std = √(2 / (n + m)), as
    /// `torch.nn.init.xavier_normal_` gives a [m, n] matrix), zero bias.
    public init(instances: Int, features n: Int, neurons m: Int, generator: inout RandomGenerator) {
        let standardDeviation = Float((2.0 / Double(n + m)).squareRoot())
        self.init(inputWeights: .normal([instances, m, n], standardDeviation: standardDeviation, using: &generator),
                  outputWeights: .normal([instances, n, m], standardDeviation: standardDeviation, using: &generator),
                  bias: Tensor(zeros: [instances, n]))
    }

    /// The output y of a dense input `x: [instance, batch, n]` -> `[instance, batch, n]`.
    public func output(_ x: Tensor) -> Tensor {
        let tape = Tape()
        return output(tape: tape, inputWeights: tape.constant(inputWeights), outputWeights: tape.constant(outputWeights),
                      bias: tape.constant(bias), input: tape.constant(x)).value
    }

    /// The model as differentiable operations on a tape: `x: [instance, batch, n]` -> y.
    /// Training uses the fused `AbsoluteValueKernel`; this composition is its reference.
    public func output(tape: Tape, inputWeights: Variable, outputWeights: Variable, bias: Variable, input: Variable) -> Variable {
        let hidden = input.matmul(inputWeights, transposeOther: true).relu()              // [instance, batch, m]
        return (hidden.matmul(outputWeights, transposeOther: true)
                + bias.reshaped([instanceCount, 1, featureCount])).relu()                 // [instance, batch, n]
    }

    /// The summed loss on a tape (the reference for the fused kernel's gradients).
    public func loss(tape: Tape, inputWeights: Variable, outputWeights: Variable, bias: Variable,
                     input x: Tensor, importance: Tensor) -> Variable {
        let y = output(tape: tape, inputWeights: inputWeights, outputWeights: outputWeights, bias: bias, input: tape.constant(x))
        let error = y - tape.constant(x.map { Swift.abs($0) })
        let weighted = error.squared() * tape.constant(importance.reshaped([instanceCount, 1, featureCount]).broadcast(to: x.shape))
        return weighted.mean(alongAxes: [1, 2]).sum()
    }

    /// The loss per instance on a dense batch `x: [instance, batch, n]` with `importance: [instance, n]`.
    public func lossPerInstance(_ x: Tensor, importance: Tensor) -> [Float] {
        let error = output(x) - x.map { Swift.abs($0) }
        let weighted = error * error * importance.reshaped([instanceCount, 1, featureCount]).broadcast(to: x.shape)
        return weighted.mean(alongAxes: [1, 2]).scalars
    }

    /// One instance as a model of its own.
    public func instance(_ index: Int) -> AbsoluteValueModel {
        let (m, n) = (neuronCount, featureCount)
        return AbsoluteValueModel(inputWeights: inputWeights.slice(index).reshaped([1, m, n]),
                                  outputWeights: outputWeights.slice(index).reshaped([1, n, m]),
                                  bias: bias.slice(index).reshaped([1, n]))
    }
}

/// The fused forward and backward pass of one instance of `AbsoluteValueModel` on a batch:
/// four GEMMs and two elementwise passes, with buffers allocated once.
public final class AbsoluteValueKernel {
    public let neuronCount: Int, featureCount: Int, batchSize: Int
    private var hidden: [Float]       // [batch, m] ReLU(x W1ᵀ), then reused for dH
    private var hiddenGradient: [Float]
    private var outputGradient: [Float] // [batch, n]

    public init(neuronCount m: Int, featureCount n: Int, batchSize: Int) {
        neuronCount = m; featureCount = n; self.batchSize = batchSize
        hidden = [Float](repeating: 0, count: batchSize * m)
        hiddenGradient = hidden
        outputGradient = [Float](repeating: 0, count: batchSize * n)
    }

    /// The loss of one instance, Σ_j I_j (y_bj − |x_bj|)² / (batch·n); fills the gradients
    /// (dW1: [m, n], dW2: [n, m], db: [n]) unless they are nil.
    public func lossAndGradients(input x: UnsafePointer<Float>, inputWeights w1: UnsafePointer<Float>,
                                 outputWeights w2: UnsafePointer<Float>, bias b: UnsafePointer<Float>,
                                 importance: UnsafePointer<Float>,
                                 inputWeightGradient dw1: UnsafeMutablePointer<Float>?,
                                 outputWeightGradient dw2: UnsafeMutablePointer<Float>?,
                                 biasGradient db: UnsafeMutablePointer<Float>?) -> Float {
        let (m, n, batch) = (neuronCount, featureCount, batchSize)
        let scale = 2 / Float(batch * n)
        var total: Float = 0
        hidden.withUnsafeMutableBufferPointer { h in
        hiddenGradient.withUnsafeMutableBufferPointer { dh in
        outputGradient.withUnsafeMutableBufferPointer { dy in
            let h = h.baseAddress!, dh = dh.baseAddress!, dy = dy.baseAddress!
            // h = ReLU(x W1ᵀ): [batch, m]
            GEMM.multiply(m: batch, n: m, k: n, a: x, lda: n, b: w1, ldb: n, transposeB: true, c: h, ldc: m)
            for i in 0..<(batch * m) { h[i] = max(h[i], 0) }
            // pre = h W2ᵀ: [batch, n]; then y = ReLU(pre + b), error and its gradient in place.
            GEMM.multiply(m: batch, n: n, k: m, a: h, lda: m, b: w2, ldb: m, transposeB: true, c: dy, ldc: n)
            var rowTotal: Float = 0
            for r in 0..<batch {
                let row = r * n
                var sum: Float = 0
                for j in 0..<n {
                    let y = max(dy[row + j] + b[j], 0)
                    let error = y - Swift.abs(x[row + j])
                    let weighted = importance[j] * error
                    sum += weighted * error
                    dy[row + j] = y > 0 ? scale * weighted : 0
                }
                rowTotal += sum
            }
            total = rowTotal / Float(batch * n)
            guard let dw1, let dw2, let db else { return }
            // db = Σ_batch dy; dW2 = dyᵀ h: [n, m]
            for j in 0..<n { db[j] = 0 }
            for r in 0..<batch { for j in 0..<n { db[j] += dy[r * n + j] } }
            GEMM.multiply(m: n, n: m, k: batch, a: dy, lda: n, transposeA: true, b: h, ldb: m, c: dw2, ldc: m)
            // dh = (dy W2) ⊙ [h > 0]: [batch, m]; dW1 = dhᵀ x: [m, n]
            GEMM.multiply(m: batch, n: m, k: n, a: dy, lda: n, b: w2, ldb: m, c: dh, ldc: m)
            for i in 0..<(batch * m) where h[i] <= 0 { dh[i] = 0 }
            GEMM.multiply(m: m, n: n, k: batch, a: dh, lda: m, transposeA: true, b: x, ldb: n, c: dw1, ldc: n)
        }}}
        return total
    }
}
