import XCTest
import Foundation
import TensorCore
import ToyModels
@testable import Experiments

final class AbsoluteValueExperimentTests: XCTestCase {
    /// A small seeded sparse run: 6 features, 3 neurons, p = 0.05. Observed: every live neuron reads
    /// two or more features and more features are represented than there are neurons.
    func testSparseRunHasPolysemanticNeurons() throws {
        var config = AbsoluteValueConfig(name: "abs-test", features: 6, neurons: 3, instances: 2)
        config.featureProbability = .explicit([1, 0.05])
        config.training.steps = 4000
        config.training.batchSize = 512
        config.training.seed = 1
        let (_, metrics) = try AbsoluteValueExperiment.train(config)
        let dense = metrics.instances[0], sparse = metrics.instances[1]
        XCTAssertGreaterThan(sparse.polysemanticNeurons, 0)
        XCTAssertGreaterThan(sparse.representedFeatureCount, config.neurons)
        XCTAssertLessThanOrEqual(dense.representedFeatureCount, config.neurons)
        XCTAssertGreaterThanOrEqual(sparse.polysemanticNeurons, dense.polysemanticNeurons)
    }

    /// The motif detector finds a hand-built asymmetric neuron and nothing in a monosemantic one.
    func testMotifDetection() {
        // Neuron 0: +1.0 on feature 0, −0.4 on feature 1; writes 0.8 to feature 0, 2.0 to feature 1.
        // Neuron 1: −1 on feature 2 only.
        let w1 = Tensor(shape: [1, 2, 3], scalars: [1.0, -0.4, 0, 0, 0, -1])
        let w2 = Tensor(shape: [1, 3, 2], scalars: [0.8, 0, 2.0, 0, 0, 1])
        let model = AbsoluteValueModel(inputWeights: w1, outputWeights: w2, bias: Tensor(zeros: [1, 3]))
        let summary = AbsoluteValueAnalysis.analyse(model, instance: 0)
        XCTAssertEqual(summary.monosemanticNeurons, 1)
        XCTAssertEqual(summary.polysemanticNeurons, 1)
        XCTAssertEqual(summary.motifs.count, 1)
        XCTAssertEqual(summary.motifs.first?.strongFeature, 0)
        XCTAssertEqual(summary.motifs.first?.weakFeature, 1)
        XCTAssertEqual(summary.representedFeatures, [0, 1, 2])
    }

    /// A run folder has every file, the safetensors names, and every SVG parses as XML.
    func testRunFolderAndFiguresParse() throws {
        var config = AbsoluteValuePreset.small.config
        config.training.steps = 200
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("abs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let outcome = try AbsoluteValueExperiment.run(config, under: root)
        let file = try SafeTensors.read(from: outcome.folder.modelURL)
        XCTAssertEqual(file.tensors["W1"]?.shape, [8, 2, 4])
        XCTAssertEqual(file.tensors["W2"]?.shape, [8, 4, 2])
        XCTAssertEqual(file.tensors["b"]?.shape, [8, 4])
        let decoded = try JSONCoding.decode(AbsoluteValueConfig.self, from: outcome.folder.configURL)
        XCTAssertEqual(decoded, config)
        let metrics = try JSONCoding.decode(AbsoluteValueMetrics.self, from: outcome.folder.metricsURL)
        XCTAssertEqual(metrics.instances.count, 8)
        let svgs = try FileManager.default.contentsOfDirectory(at: outcome.folder.figuresURL, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "svg" }
        XCTAssertGreaterThanOrEqual(svgs.count, 6)
        for svg in svgs {
            let check = MarkupCheck(try String(contentsOf: svg, encoding: .utf8))
            XCTAssertTrue(check.isWellFormed, "\(svg.lastPathComponent) is not well-formed XML")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: outcome.report.path))
    }

    func testInvalidConfigGivesOneLineError() {
        var config = AbsoluteValuePreset.small.config
        config.neurons = 0
        XCTAssertThrowsError(try config.validate()) { XCTAssertFalse("\($0)".contains("\n")) }
        XCTAssertThrowsError(try AbsoluteValuePreset.named("huge"))
    }
}
