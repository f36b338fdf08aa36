import XCTest
import TensorCore
import ToyModels

/// The fused training kernel against the tape composition of the same model, and against finite differences.
final class ToyModelKernelTests: XCTestCase {
    func makeProblem(kind: ToyModel.Kind, seed: UInt64) -> (ToyModel, Tensor, Tensor) {
        var generator = RandomGenerator(seed: seed)
        var model = ToyModel(kind: kind, instances: 3, features: 7, hidden: 3, generator: &generator)
        model.bias = .normal([3, 7], standardDeviation: 0.1, using: &generator)
        let distribution = FeatureDistribution(instanceProbabilities: [1, 0.4, 0.1], featureCount: 7)
        var lanes = (0..<3).map { RandomLanes(seed: seed, stream: UInt64($0 + 1)) }
        let batch = distribution.sample(batchSize: 33, lanes: &lanes)
        let importance = Tensor.uniform([3, 7], low: 0.2, high: 1, using: &generator)
        return (model, batch, importance)
    }

    /// Loss summed over instances and (dW, db) from the fused kernel.
    func fused(_ model: ToyModel, _ batch: Tensor, _ importance: Tensor) -> (Float, Tensor, Tensor) {
        let (m, n, rows) = (model.hiddenCount, model.featureCount, batch.shape[1])
        let kernel = ToyModelKernel(hiddenCount: m, featureCount: n, batchSize: rows)
        var dw = Tensor(zeros: model.weights.shape), db = Tensor(zeros: model.bias.shape)
        var loss: Float = 0
        for i in 0..<model.instanceCount {
            batch.scalars.withUnsafeBufferPointer { x in
            model.weights.scalars.withUnsafeBufferPointer { w in
            model.bias.scalars.withUnsafeBufferPointer { b in
            importance.scalars.withUnsafeBufferPointer { imp in
            dw.scalars.withUnsafeMutableBufferPointer { dwp in
            db.scalars.withUnsafeMutableBufferPointer { dbp in
                loss += kernel.lossAndGradients(kind: model.kind, input: x.baseAddress! + i * rows * n,
                                                weights: w.baseAddress! + i * m * n, bias: b.baseAddress! + i * n,
                                                importance: imp.baseAddress! + i * n,
                                                weightGradient: dwp.baseAddress! + i * m * n, biasGradient: dbp.baseAddress! + i * n)
            }}}}}}
        }
        return (loss, dw, db)
    }

    func testFusedKernelMatchesTapeForBothKinds() {
        for kind in ToyModel.Kind.allCases {
            let (model, batch, importance) = makeProblem(kind: kind, seed: 7)
            let (loss, dw, db) = fused(model, batch, importance)
            let (refLoss, refDW, refDB) = tapeLossAndGradients(model, batch, importance)
            XCTAssertEqual(loss, refLoss, accuracy: 1e-5 * max(1, abs(refLoss)), "\(kind)")
            for (a, b) in zip(dw.scalars, refDW.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(kind) dW") }
            for (a, b) in zip(db.scalars, refDB.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(kind) db") }
        }
    }

    func testFusedKernelGradientMatchesFiniteDifferences() {
        let (model, batch, importance) = makeProblem(kind: .reluOutput, seed: 11)
        let (_, dw, db) = fused(model, batch, importance)
        let x = batch
        func loss(_ candidate: ToyModel) -> Double {
            zip(candidate.lossPerInstance(x, importance: importance), [Float](repeating: 1, count: 3)).map { Double($0.0) }.reduce(0, +)
        }
        let h: Float = 1e-3
        for index in stride(from: 0, to: model.weights.count, by: 5) {
            var plus = model, minus = model
            plus.weights.scalars[index] += h
            minus.weights.scalars[index] -= h
            let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
            XCTAssertEqual(Double(dw.scalars[index]), numeric, accuracy: 2e-3 * max(1, abs(numeric)), "dW[\(index)]")
        }
        for index in 0..<model.bias.count {
            var plus = model, minus = model
            plus.bias.scalars[index] += h
            minus.bias.scalars[index] -= h
            let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
            XCTAssertEqual(Double(db.scalars[index]), numeric, accuracy: 2e-3 * max(1, abs(numeric)), "db[\(index)]")
        }
    }
}
