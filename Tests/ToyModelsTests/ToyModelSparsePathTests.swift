import CKernels
import XCTest
import TensorCore
import ToyModels

/// The sparse path of the fused step (through U = WᵀW, AVX-512 or AVX2) and the fused dense pass
/// against the tape reference, at the densities and sizes where `ck_toy_model_step` chooses them and
/// at dense ones.
final class ToyModelSparsePathTests: XCTestCase {
    /// Loss and gradients of every instance on a forced path: 1 dense, 3 sparse adding S row by row,
    /// 4 sparse adding S by blocks of 64 rows, 5 the fused dense pass; with vectors of at most
    /// `widest` lanes (0: the widest the CPU has, 8: AVX2).
    func step(path: Int32, widest: Int32 = 0, _ model: ToyModel, _ batch: Tensor, _ importance: Tensor) -> (Float, Tensor, Tensor) {
        let (m, n, rows) = (model.hiddenCount, model.featureCount, batch.shape[1])
        var scratch = [Float](repeating: .nan, count: ck_toy_model_scratch_count(rows, m, n))
        var dw = Tensor(zeros: model.weights.shape), db = Tensor(zeros: model.bias.shape)
        var loss: Float = 0
        for i in 0..<model.instanceCount {
            loss += Float(ck_toy_model_step_path(
                path, widest, model.kind == .reluOutput ? 1 : 0, rows, m, n,
                Array(batch.scalars[(i * rows * n)...]), Array(model.weights.scalars[(i * m * n)...]),
                Array(model.bias.scalars[(i * n)...]), Array(importance.scalars[(i * n)...]),
                &dw.scalars[i * m * n], &db.scalars[i * n], &scratch))
        }
        return (loss, dw, db)
    }

    /// n = 40 (three 16-lane vectors, the last one partial) and n = 150 (ten vectors: two register
    /// chunks); 77 rows: a full block of 64 and a partial one (and for the fused pass, four full tiles
    /// of 16 and a partial one). m = 14 and 20 take the fused pass (W padded to 16 rows, and not).
    /// n = 40, 150 and 100 end in a vector of at most 8 features, which runs on 256 bits; n = 60
    /// (12 in the last vector) and 48 (none partial) keep 512; m = 9 leaves dW a single last row.
    /// n = 37 and 126 (fused, m = 15 and 18) are not multiples of 4, the fused pass's group of features
    /// for pre (37 also ends in a 256-bit vector, 126 fills all of its 8 vectors). On AVX2 (8 lanes)
    /// every n but 40 and 48 ends in a partial vector, n = 150 takes three register chunks, and the
    /// fused pass also takes the small models (m ≤ 8, n ≤ 64): 40→6, 48→5, 30→7 (products over W in
    /// groups of 4 and 3) and T1's and T2's 5→2 and 20→5,
    /// and wide ones (200→16: 25 vectors, dW in chunks of 4, 4, 4, 4, 3, 3, 3).
    func testSparsePathMatchesTape() {
        for (n, m) in [(40, 6), (150, 9), (40, 14), (100, 20), (60, 16), (48, 5), (37, 15), (126, 18), (5, 2), (20, 5), (30, 7), (200, 16)] {
            for kind in ToyModel.Kind.allCases {
                var generator = RandomGenerator(seed: 21)
                var model = ToyModel(kind: kind, instances: 4, features: n, hidden: m, generator: &generator)
                model.bias = .normal([4, n], standardDeviation: 0.1, using: &generator)
                let distribution = FeatureDistribution(instanceProbabilities: [1, 0.3, 0.05, 0], featureCount: n)
                var lanes = (0..<4).map { RandomLanes(seed: 5, stream: UInt64($0)) }
                let batch = distribution.sample(batchSize: 77, lanes: &lanes)
                let importance = Tensor.uniform([4, n], low: 0.2, high: 1, using: &generator)
                let (refLoss, refDW, refDB) = tapeLossAndGradients(model, batch, importance)
                for (path, widest): (Int32, Int32) in [(1, 0), (3, 0), (4, 0), (5, 0), (3, 8), (4, 8), (5, 8)] {
                    let (loss, dw, db) = step(path: path, widest: widest, model, batch, importance)
                    let label = "n \(n) \(kind) path \(path) widest \(widest)"
                    XCTAssertEqual(loss, refLoss, accuracy: 1e-5 * max(1, abs(refLoss)), label)
                    for (a, b) in zip(dw.scalars, refDW.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(label) dW") }
                    for (a, b) in zip(db.scalars, refDB.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(label) db") }
                }
            }
        }
    }

    /// The automatic choice takes the sparse path for sparse 100→20 batches where the CPU has it, and
    /// the result does not depend on the scratch's previous contents (same numbers twice).
    func testAutomaticChoiceIsDeterministic() {
        var generator = RandomGenerator(seed: 3)
        let model = ToyModel(kind: .reluOutput, instances: 2, features: 100, hidden: 20, generator: &generator)
        let distribution = FeatureDistribution(instanceProbabilities: [1, 0.05], featureCount: 100)
        var lanes = (0..<2).map { RandomLanes(seed: 8, stream: UInt64($0)) }
        let batch = distribution.sample(batchSize: 256, lanes: &lanes)
        let importance = Tensor(shape: [2, 100], scalars: (0..<200).map { Float(pow(0.9, Double($0 % 100))) })
        let first = step(path: 0, model, batch, importance), second = step(path: 0, model, batch, importance)
        XCTAssertEqual(first.0, second.0)
        XCTAssertEqual(first.1.scalars, second.1.scalars)
        XCTAssertEqual(first.2.scalars, second.2.scalars)
        let sparse = step(path: 2, model, batch, importance), dense = step(path: 1, model, batch, importance)
        XCTAssertEqual(first.0, dense.0, accuracy: 1e-5)
        if ck_toy_model_has_sparse_path() != 0 {
            // Instance 1 (p = 0.05) went the sparse way: bit-identical to the forced sparse path.
            XCTAssertEqual(Array(first.1.scalars[2000...]), Array(sparse.1.scalars[2000...]))
        }
    }
}
