import Decomposition
import TensorCore

extension APDResult {
    /// One instance's components as tensors named `components.<matrix>.A` (`[C, d_in, rank]`) and
    /// `components.<matrix>.B` (`[C, rank, d_out]`), so that W ≈ Σ_c A_c B_c in the row convention.
    func componentTensors(instance: Int) -> [String: Tensor] {
        let parameters = self.instance(instance)
        let (c, k) = (layout.components, layout.rank)
        var tensors: [String: Tensor] = [:]
        for (s, layer) in layout.layers.enumerated() {
            let (a, b) = (layout.aOffsets[s], layout.bOffsets[s])
            tensors["components.\(layer.name).A"] = Tensor(shape: [c, layer.inputs, k], scalars: Array(parameters[a ..< a + c * layer.inputs * k]))
            tensors["components.\(layer.name).B"] = Tensor(shape: [c, k, layer.outputs], scalars: Array(parameters[b ..< b + c * k * layer.outputs]))
        }
        return tensors
    }

    /// Per decomposed matrix of one instance, ‖W − Σ_c A_c B_c‖_F / ‖W‖_F (0 for an all-zero W).
    func relativeParameterErrors(of target: some DecomposableTarget, instance: Int) -> [Double] {
        let parameters = self.instance(instance)
        return layout.layers.indices.map { s in
            let w = target.targetWeight(layer: s, instance: instance)
            let summed = parameters.withUnsafeBufferPointer { layout.summedWeight(layer: s, parameters: $0.baseAddress!) }
            let error = zip(w, summed).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +)
            let norm = w.map { Double($0) * Double($0) }.reduce(0, +)
            return norm > 0 ? (error / norm).squareRoot() : 0
        }
    }
}
