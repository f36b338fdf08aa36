import CKernels
import Foundation

/// Adam and AdamW with PyTorch's semantics (bias-corrected moments, ε added to √v̂).
///
/// With `decoupledWeightDecay` (AdamW), parameters shrink by `lr · weightDecay` before the Adam
/// step; without it (Adam), `weightDecay · p` is added to the gradient.
public struct Adam: Sendable {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var decoupledWeightDecay: Bool
    /// Steps taken so far.
    public private(set) var step = 0
    private var firstMoments: [Tensor] = []
    private var secondMoments: [Tensor] = []

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW as in `torch.optim.AdamW` (default weight decay 0.01).
    public static func adamW(weightDecay: Float = 0.01, beta1: Float = 0.9, beta2: Float = 0.999,
                             epsilon: Float = 1e-8) -> Adam {
        Adam(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    /// Takes one step: updates every parameter in place from its gradient (same shapes, same order each call).
    public mutating func update(_ parameters: inout [Tensor], gradients: [Tensor], learningRate lr: Float) {
        precondition(parameters.count == gradients.count, "\(parameters.count) parameters but \(gradients.count) gradients")
        if firstMoments.isEmpty {
            // Separate allocations: a shared copy-on-write buffer would be copied on the first write.
            firstMoments = parameters.map { Tensor(zeros: $0.shape) }
            secondMoments = parameters.map { Tensor(zeros: $0.shape) }
        }
        step += 1
        let correction1 = 1 - pow(beta1, Float(step))
        let correction2 = 1 - pow(beta2, Float(step))
        let stepSize = lr / correction1
        let decay = decoupledWeightDecay ? 1 - lr * weightDecay : 1
        let l2 = decoupledWeightDecay ? 0 : weightDecay
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        let inverseRootCorrection2 = 1 / correction2.squareRoot()
        for index in parameters.indices {
            precondition(parameters[index].shape == gradients[index].shape, "gradient shape differs from its parameter")
            parameters[index].scalars.withUnsafeMutableBufferPointer { p in
                gradients[index].scalars.withUnsafeBufferPointer { g in
                    firstMoments[index].scalars.withUnsafeMutableBufferPointer { m in
                        secondMoments[index].scalars.withUnsafeMutableBufferPointer { v in
                            let pointers = AdamPointers(p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!)
                            let step: @Sendable (Range<Int>) -> Void = { range in
                                ck_adam_update(pointers.p + range.lowerBound, pointers.g + range.lowerBound,
                                               pointers.m + range.lowerBound, pointers.v + range.lowerBound, range.count,
                                               b1, b2, l2, decay, stepSize, inverseRootCorrection2, eps)
                            }
                            // Millions of parameters (APD's residual MLP has 13.6 M) are worth both cores; the
                            // elementwise update gives the same result however it is split.
                            let count = p.count, parts = count >= 1 << 20 ? ProcessInfo.processInfo.activeProcessorCount : 1
                            if parts > 1 {
                                DispatchQueue.concurrentPerform(iterations: parts) { t in step((count * t / parts)..<(count * (t + 1) / parts)) }
                            } else {
                                step(0..<count)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The buffers of one Adam update, shared by workers that touch disjoint ranges.
private struct AdamPointers: @unchecked Sendable {
    let p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
}
