import CKernels
import TensorCore

/// The fused forward and backward pass of `ToyModel` for one instance: `ck_toy_model_step`.
///
///     h = x Wᵀ,  x' = act(h W + b),  L = Σ I_i (x' − x)² / (batch · n)
///
/// Writing the whole step by hand avoids materialising intermediate tensors and runs the
/// elementwise tail in one vectorised pass between five packed matrix products. On CPUs with
/// AVX2 or AVX-512, sparse batches go through U = WᵀW instead, touching only the nonzero features of
/// each row, and dense batches of mid-sized models (13 ≤ m ≤ 20, 32 ≤ n ≤ 128; on AVX2 also up to
/// n = 512, and small models with m ≤ 8, n ≤ 64) take one fused pass over tiles of 16 rows; the
/// kernel picks the cheapest path per call from the batch's nonzero count (with a cost model per
/// instruction set), so results stay deterministic. `ToyModel.output(tape:...)` is the reference
/// all are checked against.
public final class ToyModelKernel {
    let hiddenCount: Int, featureCount: Int, batchSize: Int
    var scratch: [Float]

    public init(hiddenCount m: Int, featureCount n: Int, batchSize: Int) {
        hiddenCount = m; featureCount = n; self.batchSize = batchSize
        scratch = .init(repeating: 0, count: ck_toy_model_scratch_count(batchSize, m, n))
    }

    /// Computes one instance's loss and gradients.
    /// - Parameters:
    ///   - input: `x: [batch, n]`; `weights`: `[m, n]`; `bias`, `importance`: `[n]`.
    ///   - weightGradient: `[m, n]`, overwritten; `biasGradient`: `[n]`, overwritten.
    /// - Returns: the loss: mean over batch and features of importance · (x − x')².
    public func lossAndGradients(
        kind: ToyModel.Kind, input: UnsafePointer<Float>,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, importance: UnsafePointer<Float>,
        weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>
    ) -> Float {
        scratch.withUnsafeMutableBufferPointer { scratch in
            Float(ck_toy_model_step(kind == .reluOutput ? 1 : 0, batchSize, hiddenCount, featureCount,
                                    input, weights, bias, importance, weightGradient, biasGradient,
                                    scratch.baseAddress!))
        }
    }
}
