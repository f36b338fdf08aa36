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
        prepareMoments(for: parameters)
        let constants = nextStep(learningRate: lr)
        for index in parameters.indices {
            precondition(parameters[index].shape == gradients[index].shape, "gradient shape differs from its parameter")
            parameters[index].scalars.withUnsafeMutableBufferPointer { p in
                gradients[index].scalars.withUnsafeBufferPointer { g in
                    // The gradients are only read here.
                    withStep(p, UnsafeMutablePointer(mutating: g.baseAddress!), moments: index, constants) { $0.applyAll() }
                }
            }
        }
    }

    /// Takes one step for a single parameter tensor, with the order of the work left to the caller:
    /// `schedule` must call `step.apply(range)` exactly once for every index, on disjoint ranges,
    /// from any threads. Before a range's `apply` it may change that range's gradients, and after
    /// it the range's parameters, through `step.parameters` and `step.gradients`: so work on a slice
    /// can run while the slice is in cache. The update itself is `update(_:gradients:learningRate:)`'s.
    public mutating func update(_ parameters: inout Tensor, gradients: inout Tensor, learningRate lr: Float,
                                schedule: (_ step: AdamStep) -> Void) {
        precondition(parameters.shape == gradients.shape, "gradient shape differs from its parameter")
        prepareMoments(for: [parameters])
        let constants = nextStep(learningRate: lr)
        parameters.scalars.withUnsafeMutableBufferPointer { p in
            gradients.scalars.withUnsafeMutableBufferPointer { g in
                withStep(p, g.baseAddress!, moments: 0, constants, schedule)
            }
        }
    }

    /// Moments for `parameters`, zero, made on the first step.
    private mutating func prepareMoments(for parameters: [Tensor]) {
        guard firstMoments.isEmpty else { return }
        // Separate allocations: a shared copy-on-write buffer would be copied on the first write.
        firstMoments = parameters.map { Tensor(zeros: $0.shape) }
        secondMoments = parameters.map { Tensor(zeros: $0.shape) }
    }

    /// Counts the step and returns its constants: bias corrections and weight decay at `lr`.
    private mutating func nextStep(learningRate lr: Float) -> AdamStep.Constants {
        step += 1
        let correction1 = 1 - pow(beta1, Float(step))
        let correction2 = 1 - pow(beta2, Float(step))
        return AdamStep.Constants(b1: beta1, b2: beta2, epsilon: epsilon, l2: decoupledWeightDecay ? 0 : weightDecay,
                                  decay: decoupledWeightDecay ? 1 - lr * weightDecay : 1, stepSize: lr / correction1,
                                  inverseRootCorrection2: 1 / correction2.squareRoot())
    }

    /// Runs `body` with the step of one tensor: parameters `p`, gradients `g`, moments `index`.
    private mutating func withStep(_ p: UnsafeMutableBufferPointer<Float>, _ g: UnsafeMutablePointer<Float>, moments index: Int,
                                   _ constants: AdamStep.Constants, _ body: (AdamStep) -> Void) {
        firstMoments[index].scalars.withUnsafeMutableBufferPointer { m in
            secondMoments[index].scalars.withUnsafeMutableBufferPointer { v in
                body(AdamStep(count: p.count, parameters: p.baseAddress!, gradients: g, firstMoments: m.baseAddress!,
                              secondMoments: v.baseAddress!, constants: constants))
            }
        }
    }
}

/// One Adam step of one tensor, applied a range at a time (see `Adam.update(_:gradients:learningRate:schedule:)`).
public struct AdamStep: @unchecked Sendable {
    /// The tensor's elements.
    public let count: Int
    /// The tensor's parameters and gradients (`[count]`), for work on a range around its update.
    public let parameters: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>
    let firstMoments: UnsafeMutablePointer<Float>, secondMoments: UnsafeMutablePointer<Float>
    let constants: Constants

    /// What every element's update in one step shares.
    struct Constants {
        let b1, b2, epsilon, l2, decay, stepSize, inverseRootCorrection2: Float
    }

    /// Updates every parameter: millions of them (APD's residual MLP has 13.6 M) on all cores, since
    /// the elementwise update gives the same result however it is split.
    public func applyAll() {
        let parts = count >= 1 << 20 ? ProcessInfo.processInfo.activeProcessorCount : 1
        if parts > 1 {
            let ranges = ContiguousPartition.even(count: count, parts: parts)
            DispatchQueue.concurrentPerform(iterations: parts) { apply(ranges[$0]) }
        } else {
            apply(0..<count)
        }
    }

    /// Updates the parameters in `range` from their gradients and moments.
    public func apply(_ range: Range<Int>) {
        let (i, k) = (range.lowerBound, constants)
        ck_adam_update(parameters + i, gradients + i, firstMoments + i, secondMoments + i, range.count,
                       k.b1, k.b2, k.l2, k.decay, k.stepSize, k.inverseRootCorrection2, k.epsilon)
    }
}
