import TensorCore
import ToyModels

/// The toy model's loss and gradients through the tape, the reference the fused kernel's paths are
/// checked against: the mean over batch and features of I (x' − x)², summed over instances.
/// x: [instance, batch, n]; importance: [instance, n]. Returns (loss, dL/dW: [instance, m, n], dL/db: [instance, n]).
func tapeLossAndGradients(_ model: ToyModel, _ x: Tensor, _ importance: Tensor) -> (Float, Tensor, Tensor) {
    let tape = Tape()
    let w = tape.variable(model.weights), b = tape.variable(model.bias), input = tape.constant(x)
    let error = model.output(tape: tape, weights: w, bias: b, input: input) - input
    let weighted = error.squared() * tape.constant(importance.reshaped([model.instanceCount, 1, model.featureCount]))
    let loss = weighted.mean(alongAxes: [1, 2]).sum()
    let grads = tape.gradients(of: loss, withRespectTo: [w, b])
    return (loss.value.scalar, grads[0], grads[1])
}
