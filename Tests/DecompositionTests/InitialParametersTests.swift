import Foundation
import XCTest
@testable import Decomposition

/// The two initialisations draw A and B with PyTorch's fans for the reference's tensors
/// `[instance, C, d_in, rank]` and `[instance, C, rank, d_out]`.
final class InitialParametersTests: XCTestCase {
    let layout = ComponentLayout(layers: [.init(name: "W", inputs: 40, outputs: 10)], components: 40, rank: 11)
    let instances = 3

    /// Mean and standard deviation of A's and B's entries over all instances.
    func moments(_ settings: APDSettings) -> (a: (Double, Double), b: (Double, Double)) {
        let p = APDTrainer.initialParameters(layout: layout, instances: instances, settings: settings).scalars
        func stats(_ values: [Float]) -> (Double, Double) {
            let mean = values.reduce(0) { $0 + Double($1) } / Double(values.count)
            return (mean, (values.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)).squareRoot())
        }
        var a: [Float] = [], b: [Float] = []
        for i in 0..<instances {
            let base = i * layout.count
            a += p[(base + layout.aOffsets[0])..<(base + layout.aOffsets[0] + 40 * 40 * 11)]
            b += p[(base + layout.bOffsets[0])..<(base + layout.bOffsets[0] + 40 * 11 * 10)]
        }
        return (stats(a), stats(b))
    }

    func testKaimingUniformHasPyTorchsBound() {
        var settings = APDSettings()
        settings.initialisationGain = 2
        let (a, b) = moments(settings)
        // U(±√2 · √(3 / fan-in)) has standard deviation √2 / √fan-in; fan-in C·d·rank.
        XCTAssertEqual(a.1, 2 * 2.0.squareRoot() / Double(40 * 40 * 11).squareRoot(), accuracy: 0.02 * a.1)
        XCTAssertEqual(b.1, 2 * 2.0.squareRoot() / Double(40 * 11 * 10).squareRoot(), accuracy: 0.03 * b.1)
        XCTAssertEqual(a.0, 0, accuracy: 0.05 * a.1)
    }

    func testXavierNormalHasPyTorchsDeviation() {
        var settings = APDSettings()
        settings.initialisation = .xavierNormal
        let (a, b) = moments(settings)
        // N(0, 2 / (fan-in + fan-out)), fan-in C·d·rank, fan-out instances·d·rank.
        XCTAssertEqual(a.1, (2.0 / Double(40 * 40 * 11 + 3 * 40 * 11)).squareRoot(), accuracy: 0.02 * a.1)
        XCTAssertEqual(b.1, (2.0 / Double(40 * 10 * 11 + 3 * 10 * 11)).squareRoot(), accuracy: 0.03 * b.1)
        XCTAssertEqual(a.0, 0, accuracy: 0.05 * a.1)
        // Normal, not uniform: a tail beyond 3 standard deviations exists (a uniform's ends at √3).
        let p = APDTrainer.initialParameters(layout: layout, instances: instances, settings: settings).scalars
        XCTAssertGreaterThan(p.filter { Double(abs($0)) > 3 * a.1 }.count, 10)
    }
}
