import Foundation
import XCTest
import TensorCore
import ToyModels

final class TrainingBehaviourTests: XCTestCase {
    /// The linear model keeps exactly the m most important features, at every sparsity.
    func testLinearModelRepresentsOnlyTheTopFeatures() {
        let n = 20, m = 5
        let probabilities: [Float] = [1, 0.3, 0.05]
        let distribution = FeatureDistribution(instanceProbabilities: probabilities, featureCount: n)
        let row = (0..<n).map { Float(pow(0.9, Double($0))) }
        let importance = Tensor(shape: [3, n], scalars: Array((0..<3).map { _ in row }.joined()))
        var settings = TrainingSettings()
        settings.seed = 5  // the reference 10,000 steps: features 4 and 5 differ little in importance and separate slowly
        let result = ToyModelTrainer.train(kind: .linear, hidden: m, distribution: distribution,
                                           importance: importance, settings: settings)
        for instance in 0..<3 {
            let w = result.model.weights.slice(instance)
            let norms = (0..<n).map { i in (0..<m).map { k in pow(w[k, i], 2) }.reduce(0, +).squareRoot() }
            XCTAssertTrue(norms[..<m].allSatisfy { $0 > 0.9 }, "instance \(instance) top-\(m) norms \(norms[..<m])")
            XCTAssertTrue(norms[m...].allSatisfy { $0 < 0.2 }, "instance \(instance) other norms \(norms[m...])")
        }
    }

    /// Same seed, same bits, whatever the thread count; a different seed gives a different model.
    func testTrainingIsDeterministicAcrossThreadCounts() {
        let distribution = FeatureDistribution(instanceProbabilities: [1, 0.3, 0.1, 0.03, 0.01], featureCount: 8)
        let importance = Tensor(repeating: 1, shape: [5, 8])
        var settings = TrainingSettings()
        settings.steps = 300
        settings.batchSize = 128
        settings.seed = 42
        settings.threads = 1
        let one = ToyModelTrainer.train(kind: .reluOutput, hidden: 3, distribution: distribution, importance: importance, settings: settings)
        // Two and three threads split the instances by their measured step times.
        for threads in [2, 3] {
            settings.threads = threads
            let split = ToyModelTrainer.train(kind: .reluOutput, hidden: 3, distribution: distribution, importance: importance, settings: settings)
            XCTAssertEqual(one.model, split.model, "\(threads) threads")
            XCTAssertEqual(one.history, split.history, "\(threads) threads")
            XCTAssertEqual(one.evaluationLoss, split.evaluationLoss, "\(threads) threads")
        }
        settings.seed = 43
        let other = ToyModelTrainer.train(kind: .reluOutput, hidden: 3, distribution: distribution, importance: importance, settings: settings)
        XCTAssertNotEqual(one.model, other.model)
    }

    func testCheckpointRoundTripIsExactAndFilesAreBitIdentical() throws {
        let distribution = FeatureDistribution(instanceProbabilities: [0.5, 0.1], featureCount: 6)
        var settings = TrainingSettings()
        settings.steps = 50
        settings.batchSize = 64
        settings.seed = 3
        let model = ToyModelTrainer.train(kind: .reluOutput, hidden: 2, distribution: distribution,
                                          importance: Tensor(repeating: 1, shape: [2, 6]), settings: settings).model
        let again = ToyModelTrainer.train(kind: .reluOutput, hidden: 2, distribution: distribution,
                                          importance: Tensor(repeating: 1, shape: [2, 6]), settings: settings).model
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = folder.appendingPathComponent("a.safetensors"), second = folder.appendingPathComponent("b.safetensors")
        try ToyModelCheckpoint.save(model, to: first)
        try ToyModelCheckpoint.save(again, to: second)
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: second))
        XCTAssertEqual(try ToyModelCheckpoint.load(from: first), model)
    }

    func testCheckpointMissingWeightsIsAClearError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nw-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(["other": Tensor([1, 2])], to: url)
        XCTAssertThrowsError(try ToyModelCheckpoint.load(from: url)) { error in
            XCTAssertTrue("\(error)".contains("no tensor named 'W'"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }
}
