import TensorCore
import ToyModels

extension ResidualMLP {
    /// A residual MLP for gradient checks: every weight N(0, 0.6²) and every bias N(0, 0.3²), drawn
    /// layer by layer (in-weight, in-bias, out-weight, out-bias), then the embedding and unembedding.
    /// - Parameter widths: the neurons of each layer.
    static func random(inputs: Int, embedding d: Int, widths: [Int], using generator: inout RandomGenerator) -> ResidualMLP {
        func matrix(_ rows: Int, _ columns: Int) -> Tensor { .normal([rows, columns], standardDeviation: 0.6, using: &generator) }
        let layers = widths.map { h in
            ResidualMLP.Layer(inWeight: matrix(d, h), inBias: .normal([h], standardDeviation: 0.3, using: &generator),
                              outWeight: matrix(h, d), outBias: .normal([d], standardDeviation: 0.3, using: &generator))
        }
        return ResidualMLP(embedding: matrix(inputs, d), unembedding: matrix(d, inputs), layers: layers)
    }
}
