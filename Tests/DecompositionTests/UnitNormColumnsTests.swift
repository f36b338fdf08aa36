import Foundation
import TensorCore
import XCTest
@testable import Decomposition

/// The unit-norm update (the reference's `unit_norm_matrices`) done block by block inside the
/// optimiser step, against the reference's order: project the gradient, step, normalise.
final class UnitNormColumnsTests: XCTestCase {
    /// Two layers, so A blocks of two heights alternate with B blocks; two instances.
    let small = ComponentLayout(layers: [.init(name: "in", inputs: 30, outputs: 7), .init(name: "out", inputs: 7, outputs: 30)],
                                components: 5, rank: 7)
    /// Over a million A entries, so A blocks and B pieces are shared out over the cores.
    let large = ComponentLayout(layers: [.init(name: "in", inputs: 1000, outputs: 40), .init(name: "out", inputs: 40, outputs: 1000)],
                                components: 26, rank: 40)

    func values(_ seed: Int, _ layout: ComponentLayout, instances: Int) -> Tensor {
        Tensor(shape: [instances, layout.count], scalars: (0..<(instances * layout.count)).map { Float(Foundation.sin(Double($0 * seed + 1))) })
    }

    /// Each column of each A_c block `[d_in, rank]`, as index lists into the store.
    func columns(_ layout: ComponentLayout, instances: Int) -> [[Int]] {
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
        checkUpdate(small, instances: 2)
    }

    func testLargeStoreUpdateMatchesProjectStepNormaliseInDouble() {
        XCTAssertGreaterThan(large.layers.indices.map { large.components * large.layers[$0].inputs * large.rank }.reduce(0, +), 1 << 20)
        checkUpdate(large, instances: 1)
    }

    func checkUpdate(_ layout: ComponentLayout, instances: Int, line: UInt = #line) {
        let columns = columns(layout, instances: instances)
        var parameters = values(3, layout, instances: instances)
        UnitNormColumns.normalise(&parameters, layout: layout, instances: instances)
        for column in columns {
            XCTAssertEqual(column.reduce(0) { $0 + Double(parameters.scalars[$1] * parameters.scalars[$1]) }, 1, accuracy: 1e-5, line: line)
        }
        var gradients = values(7, layout, instances: instances)
        // The reference, in Double: g ← g − (g·a) a per column, then Adam's first step, then a ← a / ‖a‖.
        var expected = parameters.scalars.map(Double.init), g = gradients.scalars.map(Double.init)
        for column in columns {
            let along = column.reduce(0) { $0 + g[$1] * expected[$1] }
            for i in column { g[i] -= along * expected[i] }
        }
        let lr = 0.01
        for i in expected.indices { expected[i] -= lr * (g[i] / ((g[i] * g[i]).squareRoot() + 1e-8)) } // Adam's first step: m̂ = g, v̂ = g²
        for column in columns {
            let norm = column.reduce(0) { $0 + expected[$1] * expected[$1] }.squareRoot()
            for i in column { expected[i] /= norm }
        }
        let before = parameters
        var adam = Adam()
        UnitNormColumns.update(&parameters, gradients: &gradients, optimizer: &adam, learningRate: Float(lr), layout: layout,
                               instances: instances, normalising: true)
        let error = zip(parameters.scalars, expected).map { abs(Double($0) - $1) }.max()!
        XCTAssertLessThan(error, 1e-5, line: line)
        // The projected gradient is left in place, orthogonal to every column the step started from.
        let along = columns.map { column in abs(column.reduce(0) { $0 + Double(gradients.scalars[$1]) * Double(before.scalars[$1]) }) }
        XCTAssertLessThan(along.max()!, 1e-4, line: line)
    }

    /// Without `normalising` (the last step) the parameters are the step's, not rescaled.
    func testLastUpdateLeavesColumnsUnnormalised() {
        var parameters = values(3, small, instances: 2), gradients = values(7, small, instances: 2)
        UnitNormColumns.normalise(&parameters, layout: small, instances: 2)
        var adam = Adam()
        UnitNormColumns.update(&parameters, gradients: &gradients, optimizer: &adam, learningRate: 0.1, layout: small,
                               instances: 2, normalising: false)
        let norms = columns(small, instances: 2).map { column in column.reduce(0) { $0 + Double(parameters.scalars[$1] * parameters.scalars[$1]) } }
        XCTAssertGreaterThan(norms.map { abs($0 - 1) }.max()!, 0.01)
    }
}
