/// A reverse-mode differentiation tape.
///
/// Each operation on `Variable`s appends a node holding its value and a pullback: a closure that
/// maps the gradient of the node's output to gradients of its inputs. `gradients(of:withRespectTo:)`
/// walks the nodes backwards once. A tape is built per step and then dropped.
///
///     let tape = Tape()
///     let w = tape.variable(weights)              // w: [instance, m, n]
///     let loss = ((x.matmul(w) - y).squared()).mean()
///     let dW = tape.gradients(of: loss, withRespectTo: [w])[0]
public final class Tape {
    /// The gradients of a node's inputs, in input order; nil where an input gets none.
    public typealias Pullback = (Tensor) -> [Tensor?]

    struct Node {
        var value: Tensor
        var inputs: [Int]
        var pullback: Pullback?
        var needsGradient: Bool
    }

    var nodes: [Node] = []

    public init() {}

    /// A differentiable leaf: gradients flow to it.
    public func variable(_ value: Tensor) -> Variable {
        nodes.append(Node(value: value, inputs: [], pullback: nil, needsGradient: true))
        return Variable(tape: self, id: nodes.count - 1)
    }

    /// A constant leaf: no gradient is computed for it.
    public func constant(_ value: Tensor) -> Variable {
        nodes.append(Node(value: value, inputs: [], pullback: nil, needsGradient: false))
        return Variable(tape: self, id: nodes.count - 1)
    }

    /// Records an operation: its output value, its inputs, and its pullback.
    ///
    /// This is also the way to add a fused operation with a hand-written derivative: compute the
    /// forward pass, then give a pullback returning one gradient per input (same shape as it).
    public func record(_ value: Tensor, inputs: [Variable], pullback: @escaping Pullback) -> Variable {
        precondition(inputs.allSatisfy { $0.tape === self }, "inputs belong to another tape")
        let needs = inputs.contains { nodes[$0.id].needsGradient }
        nodes.append(Node(value: value, inputs: inputs.map(\.id), pullback: needs ? pullback : nil, needsGradient: needs))
        return Variable(tape: self, id: nodes.count - 1)
    }

    /// The gradient of the scalar `output` with respect to each of `variables`
    /// (zeros for a variable the output does not depend on).
    public func gradients(of output: Variable, withRespectTo variables: [Variable]) -> [Tensor] {
        precondition(output.value.count == 1, "gradients need a scalar output, shape is \(output.value.shape)")
        var adjoints = [Tensor?](repeating: nil, count: output.id + 1)
        adjoints[output.id] = Tensor(repeating: 1, shape: output.value.shape)
        for id in stride(from: output.id, through: 0, by: -1) {
            guard let adjoint = adjoints[id], let pullback = nodes[id].pullback else { continue }
            let inputGradients = pullback(adjoint)
            for (input, gradient) in zip(nodes[id].inputs, inputGradients) {
                guard let gradient, nodes[input].needsGradient else { continue }
                if adjoints[input] == nil {
                    adjoints[input] = gradient
                } else {
                    adjoints[input]! += gradient
                }
            }
        }
        return variables.map { v in
            v.id < adjoints.count ? (adjoints[v.id] ?? Tensor(zeros: v.value.shape)) : Tensor(zeros: v.value.shape)
        }
    }
}

/// A value recorded on a `Tape`; arithmetic on variables records new nodes.
public struct Variable {
    public let tape: Tape
    let id: Int

    /// The forward value.
    public var value: Tensor { tape.nodes[id].value }
    public var shape: [Int] { tape.nodes[id].value.shape }
}
