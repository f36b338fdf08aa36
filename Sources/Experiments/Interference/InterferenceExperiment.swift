import Analysis
import Foundation
import TensorCore
import ToyModels

/// Everything an interference run measured; every number a figure shows is here.
public struct InterferenceMetrics: Codable, Equatable, Sendable {
    public struct Curve: Codable, Equatable, Sendable {
        public var score: String
        public var averagePrecision: Double
        /// Sampled ranks k (top-k kept) with precision, recall and loss gain at each.
        public var k: [Int]
        public var precision: [Double]
        public var recall: [Double]
        public var lossGain: [Double]
    }

    public struct Model: Codable, Equatable, Sendable {
        public var seed: UInt64
        public var evaluationLoss: Float
        public var liftedLoss: Double
        public var realCount: Int
        /// Real weights / n².
        public var realBaseRate: Double
        public var realDiagonalCount: Int
        public var realOffDiagonalCount: Int
        public var minimumDiagonalDeltaLoss: Double
        public var maximumOffDiagonalDeltaLoss: Double
        /// Off-diagonal weights whose ablation lowers the loss (ΔL < 0): interference that hurts.
        public var harmfulCount: Int
        /// Definition 1 (observed − identity): mean shrinkage 1 − U_ii and RMS of the off-diagonal weights.
        public var meanDiagonalShrinkage: Double
        /// Mean and standard deviation of U_ii.
        public var diagonalMean: Double
        public var diagonalStandardDeviation: Double
        public var offDiagonalRMS: Double
        public var deltaLossSeconds: Double
        public var unstableTWERARows: [Int]
        /// Row-major [n, n]: U and ΔL.
        public var virtualWeights: [Float]
        public var deltaLoss: [Double]
        public var curves: [Curve]
    }

    public struct Variant: Codable, Equatable, Sendable {
        public var name: String
        public var steps: Int
        public var models: [Model]
        /// Pearson correlation of the first two seeds' U_ii, and of their off-diagonal U_ij.
        public var diagonalCorrelation: Double
        public var offDiagonalCorrelation: Double
        /// Pearson correlation over all n² weights (real and interference pooled).
        public var allWeightsCorrelation: Double
        /// Root-mean-square difference of the two seeds' diagonal weights.
        public var diagonalRMSDifference: Double
        public var trainingSeconds: Double
    }

    public var experiment: String
    public var features: Int
    public var hidden: Int
    public var featureProbability: Float
    public var epsilon: Double
    public var reduction: LiftedModel.Reduction
    public var evaluationSamples: Int
    public var variants: [Variant]
}

public enum InterferenceExperiment {
    public struct Outcome: Sendable {
        public var folder: RunFolder
        public var metrics: InterferenceMetrics
        public var report: URL
    }

    /// Pearson correlation; 0 when either side is constant.
    public static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        guard a.count == b.count, a.count > 1 else { return 0 }
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
    }

    /// The shared evaluation set, `[samples, n]` row-major.
    public static func evaluationSet(_ config: InterferenceConfig) -> [Float] {
        var lanes = [RandomLanes(seed: config.evaluationSeed, stream: 3_000_000)]
        return config.distribution().sample(batchSize: config.evaluationSamples, lanes: &lanes).scalars
    }

    /// Analyses one trained tied model on `evaluation`.
    public static func analyse(_ model: ToyModel, seed: UInt64, evaluationLoss: Float, evaluation: [Float],
                               config: InterferenceConfig) -> InterferenceMetrics.Model {
        let n = model.featureCount
        let lifted = LiftedModel(tied: model, instance: 0, importance: config.importanceVector())
        let start = Date()
        let timed = InterferenceAnalysis.exactDeltaLoss(lifted, evaluation: evaluation, reduction: config.reduction)
        let seconds = Date().timeIntervalSince(start)
        let (ablation, statistics) = InterferenceAnalysis.analyse(lifted, evaluation: evaluation, reduction: config.reduction)
        precondition(ablation == timed)
        let real = InterferenceAnalysis.realWeights(ablation, epsilon: config.epsilon)
        let scores = WeightScores(model: lifted, statistics: statistics, ablation: ablation)
        let diagonal = (0..<n).map { $0 * n + $0 }
        let offDiagonal = (0..<(n * n)).filter { $0 / n != $0 % n }
        let interference = InterferenceAnalysis.interferenceWeights(lifted)
        let curves = WeightScores.Kind.allCases.map { kind -> InterferenceMetrics.Curve in
            let curve = RankingCurve(name: kind.rawValue, scores: scores.values[kind]!, deltaLoss: ablation.deltaLoss, real: real)
            let ranks = curve.sampledRanks(count: 160)
            return .init(score: kind.rawValue, averagePrecision: curve.averagePrecision, k: ranks,
                         precision: ranks.map { curve.precision[$0 - 1] }, recall: ranks.map { curve.recall[$0 - 1] },
                         lossGain: ranks.map { curve.lossGain[$0 - 1] })
        }
        let realCount = real.filter { $0 }.count
        let diagonalMean = diagonal.map { Double(lifted.virtualWeights[$0]) }.reduce(0, +) / Double(n)
        return .init(seed: seed, evaluationLoss: evaluationLoss, liftedLoss: ablation.baseLoss, realCount: realCount,
                     realBaseRate: Double(realCount) / Double(n * n),
                     realDiagonalCount: diagonal.filter { real[$0] }.count,
                     realOffDiagonalCount: offDiagonal.filter { real[$0] }.count,
                     minimumDiagonalDeltaLoss: diagonal.map { ablation.deltaLoss[$0] }.min() ?? 0,
                     maximumOffDiagonalDeltaLoss: offDiagonal.map { ablation.deltaLoss[$0] }.max() ?? 0,
                     harmfulCount: offDiagonal.filter { ablation.deltaLoss[$0] < 0 }.count,
                     meanDiagonalShrinkage: diagonal.map { -Double(interference[$0]) }.reduce(0, +) / Double(n),
                     diagonalMean: diagonalMean,
                     diagonalStandardDeviation: (diagonal.map { pow(Double(lifted.virtualWeights[$0]) - diagonalMean, 2) }.reduce(0, +) / Double(n)).squareRoot(),
                     offDiagonalRMS: (offDiagonal.map { Double(interference[$0] * interference[$0]) }.reduce(0, +) / Double(max(1, offDiagonal.count))).squareRoot(),
                     deltaLossSeconds: seconds, unstableTWERARows: scores.unstableTWERARows,
                     virtualWeights: lifted.virtualWeights, deltaLoss: ablation.deltaLoss, curves: curves)
    }

    /// Trains every (variant, seed) model and measures it, without writing anything.
    /// - Parameter progress: a progress callback for each training job, given its title.
    public static func train(_ config: InterferenceConfig,
                             progress: (String) -> (@Sendable (TrainingProgress) -> Void)? = { _ in nil })
        throws -> (models: [String: [ToyModel]], metrics: InterferenceMetrics) {
        try config.validate()
        let evaluation = evaluationSet(config)
        let n = config.features
        var models: [String: [ToyModel]] = [:]
        var variants: [InterferenceMetrics.Variant] = []
        for variant in config.variants {
            var trained: [ToyModel] = [], measured: [InterferenceMetrics.Model] = []
            var trainingSeconds = 0.0
            for seed in config.seeds {
                let t0 = Date()
                let result = ToyModelTrainer.train(kind: .reluOutput, hidden: config.hidden, distribution: config.distribution(),
                                                   importance: Tensor(repeating: config.importance, shape: [1, n]),
                                                   settings: config.settings(variant: variant, seed: seed),
                                                   progress: progress("\(config.name) \(variant.name) seed \(seed)"))
                trainingSeconds += Date().timeIntervalSince(t0)
                trained.append(result.model)
                measured.append(analyse(result.model, seed: seed, evaluationLoss: result.evaluationLoss[0],
                                        evaluation: evaluation, config: config))
            }
            let (a, b) = (measured[0].virtualWeights, measured[1].virtualWeights)
            let diagonal = (0..<n).map { $0 * n + $0 }
            let off = (0..<(n * n)).filter { $0 / n != $0 % n }
            variants.append(.init(name: variant.name, steps: variant.steps, models: measured,
                                  diagonalCorrelation: correlation(diagonal.map { Double(a[$0]) }, diagonal.map { Double(b[$0]) }),
                                  offDiagonalCorrelation: correlation(off.map { Double(a[$0]) }, off.map { Double(b[$0]) }),
                                  allWeightsCorrelation: correlation(a.map(Double.init), b.map(Double.init)),
                                  diagonalRMSDifference: (diagonal.map { pow(Double(a[$0] - b[$0]), 2) }.reduce(0, +) / Double(n)).squareRoot(),
                                  trainingSeconds: trainingSeconds))
            models[variant.name] = trained
        }
        let metrics = InterferenceMetrics(experiment: config.name, features: n, hidden: config.hidden,
                                          featureProbability: config.featureProbability, epsilon: config.epsilon,
                                          reduction: config.reduction, evaluationSamples: config.evaluationSamples, variants: variants)
        return (models, metrics)
    }

    /// Trains, measures, and writes config.json, model.safetensors, metrics.json, figures/*.svg and report.html.
    ///
    /// model.safetensors holds, per variant V, `W.V: [seed, m, n]` and `b_final.V: [seed, n]` (seeds in config order).
    public static func run(_ config: InterferenceConfig, under root: URL,
                           progress: (String) -> (@Sendable (TrainingProgress) -> Void)? = { _ in nil }) throws -> Outcome {
        try config.validate()
        let folder = try RunFolder.create(under: root, experiment: config.name)
        let (models, metrics) = try train(config, progress: progress)
        try folder.writeJSON(config, to: folder.configURL)
        var tensors: [String: Tensor] = [:]
        for (name, list) in models {
            tensors["W.\(name)"] = Tensor.stacked(list.map { $0.weights.slice(0) })
            tensors["b_final.\(name)"] = Tensor.stacked(list.map { $0.bias.slice(0) })
        }
        try SafeTensors.write(tensors, metadata: ["format": "superposition.interference.v1",
                                                  "layout": "W.<variant>: [seed, m, n], b_final.<variant>: [seed, n]; U = WᵀW; seeds as in config.json"],
                              to: folder.modelURL)
        try folder.writeJSON(metrics, to: folder.metricsURL)
        let report = try InterferenceReport(config: config, metrics: metrics).write(to: folder)
        return Outcome(folder: folder, metrics: metrics, report: report)
    }
}
