import Foundation
import TensorCore
import XCTest
@testable import Decomposition

/// The unit-norm update (the reference's `unit_norm_matrices`) done block by block inside the
/// optimiser step, against the reference's order: project the gradient, step, normalise.
final class UnitNormColumnsTests: XCTestCase {
    /// Two layers, so A blocks of two heights alternate with B blocks; two instances.
    let layout = ComponentLayout(layers: [.init(name: "in", inputs: 30, outputs: 7), .init(name: "out", inputs: 7, outputs: 30)],
                                 components: 5, rank: 7)
    let instances = 2

    func values(_ seed: Int) -> Tensor {
        Tensor(shape: [instances, layout.count], scalars: (0..<(instances * layout.count)).map { Float(Foundation.sin(Double($0 * seed + 1))) })
    }

    /// Each column of each A_c block `[d_in, rank]`, as index lists into one instance's parameters.
    func columns() -> [[Int]] {
        (0..<instances).flatMap { instance in
            layout.layers.indices.flatMap { l in
                (0..<layout.components).flatMap { c in
                    let (start, rows) = (instance * layout.count + layout.aOffsets[l] + c * layout.layers[l].inputs * layout.rank, layout.layers[l].inputs)
                    return (0..<layout.rank).map { r in (0..<rows).map { start + $0 * layout.rank + r } }
                }
            }
        }
    }

    func testUpdateMatchesProjectStepNormaliseInDouble() {
        var parameters = values(3)
        UnitNormColumns.normalise(&parameters, layout: layout, instances: instances)
        for column in columns() {
            XCTAssertEqual(column.reduce(0) { $0 + Double(parameters.scalars[$1] * parameters.scalars[$1]) }, 1, accuracy: 1e-5)
        }
        var gradients = values(7)
        // The reference, in Double: g ← g − (g·a) a per column, then Adam's first step, then a ← a / ‖a‖.
        var expected = parameters.scalars.map(Double.init), g = gradients.scalars.map(Double.init)
        for column in columns() {
            let along = column.reduce(0) { $0 + g[$1] * expected[$1] }
            for i in column { g[i] -= along * expected[i] }
        }
        let lr = 0.01
        for i in expected.indices { expected[i] -= lr * (g[i] / ((g[i] * g[i]).squareRoot() + 1e-8)) } // Adam's first step: m̂ = g, v̂ = g²
        for column in columns() {
            let norm = column.reduce(0) { $0 + expected[$1] * expected[$1] }.squareRoot()
            for i in column { expected[i] /= norm }
        }
        let before = parameters
        var adam = Adam()
        UnitNormColumns.update(&parameters, gradients: &gradients, optimizer: &adam, learningRate: Float(lr), layout: layout,
                               instances: instances, normalising: true)
        for (got, want) in zip(parameters.scalars, expected) { XCTAssertEqual(Double(got), want, accuracy: 1e-5) }
        // The projected gradient is left in place, orthogonal to every column the step started from.
        for column in columns() {
            XCTAssertEqual(column.reduce(0) { $0 + Double(gradients.scalars[$1]) * Double(before.scalars[$1]) }, 0, accuracy: 1e-5)
        }
    }

    /// Without `normalising` (the last step) the parameters are the step's, not rescaled.
    func testLastUpdateLeavesColumnsUnnormalised() {
        var parameters = values(3), gradients = values(7)
        UnitNormColumns.normalise(&parameters, layout: layout, instances: instances)
        var adam = Adam()
        UnitNormColumns.update(&parameters, gradients: &gradients, optimizer: &adam, learningRate: 0.1, layout: layout,
                               instances: instances, normalising: false)
        let norms = columns().map { column in column.reduce(0) { $0 + Double(parameters.scalars[$1] * parameters.scalars[$1]) } }
        XCTAssertGreaterThan(norms.map { abs($0 - 1) }.max()!, 0.01)
    }
}
