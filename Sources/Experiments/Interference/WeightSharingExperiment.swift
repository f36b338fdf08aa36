import Analysis
import Foundation
import TensorCore
import ToyModels

/// Everything an I7 run measured; every number a figure shows is here. Matrices are row-major.
public struct WeightSharingMetrics: Codable, Equatable, Sendable {
    /// One trained model: a feature alone, or all features together.
    public struct Model: Codable, Equatable, Sendable {
        public var label: String
        /// The features present in its data.
        public var trainedFeatures: [Int]
        /// M: [m, m], b: [n], U = Eᵀ M E: [n, n].
        public var middle: [Float]
        public var bias: [Float]
        public var virtualWeights: [Float]
        public var evaluationLoss: Float
    }

    public struct Arrangement: Codable, Equatable, Sendable {
        public var name: String
        public var features: Int
        public var hidden: Int
        /// E: [m, n].
        public var embedding: [Float]
        /// The n single-feature models, then the all-features model.
        public var models: [Model]
        /// U_kk of the model trained on feature k alone: the real weight feature k wants, [n].
        public var ownWeights: [Float]
        /// Part k of the shared weight, U_kk^(alone) e_k e_kᵀ: the least M (Frobenius) that gives feature k its own
        /// weight, [m, m] each.
        public var parts: [[Float]]
        /// Σ_k parts[k], the parameter-linear prediction for M: [m, m].
        public var partSum: [Float]
        /// E A Eᵀ, the ideal weights A = multiplier · I compressed linearly (the closed form of `partSum`): [m, m].
        public var linearPrediction: [Float]
        /// ⟨M, S⟩ / ⟨S, S⟩ for the all-features M and S = `partSum` (Frobenius): how much of the sum M is.
        public var ratioToSum: Double
        /// The same against `linearPrediction`.
        public var ratioToLinearPrediction: Double
        /// ‖M − ratio · S‖_F / ‖M‖_F: 0 when M is exactly a multiple of the sum.
        public var residualToSum: Double
        /// Eᵀ part_k E, each [n, n]: the virtual weights part k carries.
        public var partVirtualWeights: [[Float]]
        /// Entry by entry over the parts: their sum, and the one of largest magnitude (sign kept), each [n, n].
        public var virtualSum: [Float]
        public var virtualMax: [Float]
        /// Largest |U_ij − virtualMax_ij| and |U_ij − virtualSum_ij| of the all-features model, over the diagonal
        /// (the real weights) and over all entries.
        public var diagonalDeviationFromMax: Double
        public var diagonalDeviationFromSum: Double
        public var deviationFromMax: Double
        public var deviationFromSum: Double
        /// The all-features model's lifted model: ΔL of every U_ij (Definition 2, real iff ΔL > ε), its loss,
        /// and Definition 1's interference U − A.
        public var deltaLoss: [Double]
        public var baseLoss: Double
        public var real: [Bool]
        public var interference: [Float]

        /// The model trained on all features.
        public var shared: Model { models[models.count - 1] }
    }

    public var experiment: String
    public var arrangements: [Arrangement]
    public var trainingSeconds: Double

    public func arrangement(_ name: String) -> Arrangement? { arrangements.first { $0.name == name } }
}

/// Trains and measures I7 (see `WeightSharingConfig`).
public enum WeightSharingExperiment {
    public struct Outcome: Sendable {
        public var folder: RunFolder
        public var metrics: WeightSharingMetrics
        public var report: URL
    }

    /// Trains one arrangement's n + 1 models (each feature alone, then all together).
    public static func trainModels(_ arrangement: WeightSharingConfig.Arrangement, config: WeightSharingConfig,
                                   progress: (@Sendable (TrainingProgress) -> Void)? = nil) -> TrainingResult<WeightSharingModel> {
        let n = arrangement.features
        let model = WeightSharingModel(instances: n + 1, embedding: arrangement.embedding, hidden: arrangement.hidden,
                                       circuit: config.circuit(features: n), middleScale: config.initialScale)
        return WeightSharingModelTrainer.train(model, distribution: config.distribution(features: n),
                                               importance: Tensor(repeating: 1, shape: [n + 1, n]),
                                               settings: config.training, progress: progress)
    }

    /// Measures one arrangement's trained models; ΔL on `evaluation` (`[samples, n]`, all features).
    public static func analyse(_ arrangement: WeightSharingConfig.Arrangement, result: TrainingResult<WeightSharingModel>,
                               evaluation: [Float], config: WeightSharingConfig) -> WeightSharingMetrics.Arrangement {
        let trained = result.model
        let n = arrangement.features, m = arrangement.hidden, e = arrangement.embedding
        let models = (0...n).map { k in
            WeightSharingMetrics.Model(label: k < n ? "feature \(k + 1) alone" : "all features", trainedFeatures: k < n ? [k] : Array(0..<n),
                                       middle: trained.middle(instance: k), bias: trained.bias.slice(k).scalars,
                                       virtualWeights: trained.virtualWeights(instance: k), evaluationLoss: result.evaluationLoss[k])
        }
        let own = (0..<n).map { k in models[k].virtualWeights[k * n + k] }
        let parts = (0..<n).map { k in part(ownWeight: own[k], direction: arrangement.directions[k]) }
        let partSum = elementwiseSum(parts)
        let linear = WeightSharingModel.virtualWeights(middle: config.circuit(features: n).matrix,
                                                       embedding: transposed(e, rows: m, columns: n), hidden: n)
        let shared = models[n]
        let ratio = projection(shared.middle, onto: partSum)
        let residual = zip(shared.middle, partSum).map { Double($0) - ratio * Double($1) }
        let partVirtual = parts.map { WeightSharingModel.virtualWeights(middle: $0, embedding: e, hidden: m) }
        let virtualSum = elementwiseSum(partVirtual)
        let virtualMax = (0..<(n * n)).map { index in partVirtual.map { $0[index] }.max { abs($0) < abs($1) }! }
        func deviation(_ reference: [Float], diagonalOnly: Bool) -> Double {
            (0..<(n * n)).filter { !diagonalOnly || $0 / n == $0 % n }
                .map { Double(abs(shared.virtualWeights[$0] - reference[$0])) }.max() ?? 0
        }
        let lifted = LiftedModel(virtualWeights: shared.virtualWeights, bias: shared.bias)
        let circuit = config.circuit(features: n)
        let ablation = InterferenceAnalysis.exactDeltaLoss(lifted, evaluation: evaluation, targets: circuit.targets(evaluation))
        return .init(name: arrangement.name, features: n, hidden: m, embedding: e, models: models, ownWeights: own, parts: parts, partSum: partSum,
                     linearPrediction: linear, ratioToSum: ratio, ratioToLinearPrediction: projection(shared.middle, onto: linear),
                     residualToSum: norm(residual) / max(norm(shared.middle.map(Double.init)), 1e-30),
                     partVirtualWeights: partVirtual, virtualSum: virtualSum, virtualMax: virtualMax,
                     diagonalDeviationFromMax: deviation(virtualMax, diagonalOnly: true),
                     diagonalDeviationFromSum: deviation(virtualSum, diagonalOnly: true),
                     deviationFromMax: deviation(virtualMax, diagonalOnly: false),
                     deviationFromSum: deviation(virtualSum, diagonalOnly: false),
                     deltaLoss: ablation.deltaLoss, baseLoss: ablation.baseLoss,
                     real: InterferenceAnalysis.realWeights(ablation, epsilon: config.epsilon),
                     interference: InterferenceAnalysis.interferenceWeights(lifted, ideal: circuit.matrix))
    }

    /// u · e eᵀ for a unit direction `e: [m]`, as `[m, m]`: the least M with eᵀ M e = u.
    ///
    /// A model trained on one feature alone fixes only that feature's own weight eᵀ M e: its
    /// interference weights e_iᵀ M e (i ≠ k) end anywhere below the ReLU threshold, where they cost
    /// nothing, so AdamW (not rotation invariant) leaves them at values that depend on the basis.
    /// The part therefore keeps only the real weight.
    static func part(ownWeight u: Float, direction e: [Float]) -> [Float] {
        let m = e.count
        return (0..<(m * m)).map { index in u * e[index / m] * e[index % m] }
    }

    static func elementwiseSum(_ matrices: [[Float]]) -> [Float] {
        matrices.dropFirst().reduce(matrices[0]) { zip($0, $1).map(+) }
    }

    static func transposed(_ a: [Float], rows: Int, columns: Int) -> [Float] {
        (0..<(rows * columns)).map { index in a[(index % rows) * columns + index / rows] }
    }

    /// ⟨a, b⟩ / ⟨b, b⟩.
    static func projection(_ a: [Float], onto b: [Float]) -> Double {
        let product = zip(a, b).map { Double($0) * Double($1) }.reduce(0, +)
        let square = b.map { Double($0) * Double($0) }.reduce(0, +)
        return square > 0 ? product / square : 0
    }

    static func norm(_ a: [Double]) -> Double { a.map { $0 * $0 }.reduce(0, +).squareRoot() }

    /// Trains every arrangement's models and measures them, without writing anything.
    public static func train(_ config: WeightSharingConfig, progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws
        -> (models: [WeightSharingModel], metrics: WeightSharingMetrics) {
        try config.validate()
        let start = Date()
        let results = config.arrangements.map { trainModels($0, config: config, progress: progress) }
        let seconds = Date().timeIntervalSince(start)
        let measured = zip(config.arrangements.indices, results).map { index, result in
            let arrangement = config.arrangements[index]
            var lanes = [RandomLanes(seed: config.training.seed, stream: 3_000_000 + UInt64(index))]
            let evaluation = FeatureDistribution(instanceProbabilities: [config.featureProbability], featureCount: arrangement.features)
                .sample(batchSize: config.evaluationSamples, lanes: &lanes).scalars
            return analyse(arrangement, result: result, evaluation: evaluation, config: config)
        }
        return (results.map(\.model), .init(experiment: config.name, arrangements: measured, trainingSeconds: seconds))
    }

    /// Trains, measures, and writes config.json, model.safetensors (per arrangement `E.<name>`: [m, n],
    /// `M.<name>`: [n + 1, m, m], `b.<name>`: [n + 1, n]), metrics.json, figures/*.svg and report.html.
    public static func run(_ config: WeightSharingConfig, under root: URL,
                           progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> Outcome {
        try config.validate()
        return try RunFolder.create(under: root, experiment: config.name) { folder in
            let (models, metrics) = try train(config, progress: progress)
            var tensors: [String: Tensor] = [:]
            for (arrangement, model) in zip(config.arrangements, models) {
                tensors["E.\(arrangement.name)"] = Tensor(shape: [arrangement.hidden, arrangement.features], scalars: model.embedding)
                tensors["M.\(arrangement.name)"] = model.middle
                tensors["b.\(arrangement.name)"] = model.bias
            }
            try folder.write(config: config, metrics: metrics) {
                try SafeTensors.write(tensors, metadata: [
                    "format": "superposition.interference.sharing.v1",
                    "layout": "per arrangement: E.<name>: [m, n] fixed feature directions, M.<name>: [n + 1, m, m], b.<name>: [n + 1, n]; instance k < n trained on feature k alone, instance n on all features; y' = ReLU(Eᵀ M E x + b), U = Eᵀ M E",
                ], to: $0)
            }
            let report = try WeightSharingReport(config: config, metrics: metrics).write(to: folder)
            return Outcome(folder: folder, metrics: metrics, report: report)
        }
    }
}
