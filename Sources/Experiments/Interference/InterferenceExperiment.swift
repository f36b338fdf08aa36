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
        /// The learned mask's and integrated gradients' own numbers (their curves are in `curves`).
        public var learnedScores: LearnedScoreMetrics? = nil
        /// Definition 1's shrinkage as a slope: the least-squares fit U ≈ s · ideal over the ideal's
        /// support, Σ U·ideal / Σ ideal² (s < 1: the learned weights are shrunk).
        public var idealSlope: Double? = nil
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
        /// Pearson correlation of the two seeds' weights that are real in both (Definition 2), and of
        /// those that are interference in both; how many are real in both.
        public var realCorrelation: Double? = nil
        public var interferenceCorrelation: Double? = nil
        public var realInBothCount: Int? = nil
        /// Untied circuit: W_down was frozen.
        public var frozenDown: Bool? = nil
    }

    public var experiment: String
    public var features: Int
    public var hidden: Int
    public var featureProbability: Float
    public var epsilon: Double
    public var reduction: LiftedModel.Reduction
    public var evaluationSamples: Int
    public var variants: [Variant]
    /// Definition 1's ideal weights when not the identity (the circuit's A), row-major [n, n], and
    /// the fraction of them that are nonzero (nnz / n²).
    public var idealWeights: [Float]? = nil
    public var idealBaseRate: Double? = nil
    /// Definition 2 applied to the circuit itself (U = A, b = v): the fraction of weights with ΔL > ε.
    /// Below nnz(A)/n² because an entry too small to lift its output over −v never matters.
    public var circuitRealBaseRate: Double? = nil

    /// Records the circuit as Definition 1's ideal and its own base rates, on `evaluation` (`[samples, n]`).
    mutating func recordCircuit(_ circuit: BlockCircuit, evaluation: [Float], targets: [Float]) {
        let n = features
        idealWeights = circuit.matrix
        idealBaseRate = Double(circuit.nonzeroCount) / Double(n * n)
        let ablation = InterferenceAnalysis.exactDeltaLoss(LiftedModel(virtualWeights: circuit.matrix, bias: circuit.bias),
                                                           evaluation: evaluation, targets: targets, reduction: reduction)
        circuitRealBaseRate = Double(InterferenceAnalysis.realWeights(ablation, epsilon: epsilon).filter { $0 }.count) / Double(n * n)
    }
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
        analyse(LiftedModel(tied: model, instance: 0, importance: config.importanceVector()),
                seed: seed, evaluationLoss: evaluationLoss, evaluation: evaluation, config: config)
    }

    /// Analyses one lifted model on `evaluation` (`[samples, n]`), scored against `targets` (x when nil),
    /// with Definition 1's `ideal` weights (`[n, n]`, the identity when nil). The "diagonal" numbers are
    /// those of the ideal's support (its nonzero entries: the identity's diagonal, A's kept entries),
    /// the "off-diagonal" ones those of the rest.
    public static func analyse(_ lifted: LiftedModel, targets: [Float]? = nil, ideal: [Float]? = nil, seed: UInt64,
                               evaluationLoss: Float, evaluation: [Float], config: InterferenceConfig) -> InterferenceMetrics.Model {
        let n = lifted.featureCount
        let start = Date()
        let timed = InterferenceAnalysis.exactDeltaLoss(lifted, evaluation: evaluation, targets: targets, reduction: config.reduction)
        let seconds = Date().timeIntervalSince(start)
        let (ablation, statistics) = InterferenceAnalysis.analyse(lifted, evaluation: evaluation, targets: targets, reduction: config.reduction)
        precondition(ablation == timed)
        let real = InterferenceAnalysis.realWeights(ablation, epsilon: config.epsilon)
        let scores = WeightScores(model: lifted, statistics: statistics, ablation: ablation)
        let idealWeights = ideal ?? InterferenceAnalysis.identity(n)
        let diagonal = (0..<(n * n)).filter { idealWeights[$0] != 0 }
        let offDiagonal = (0..<(n * n)).filter { idealWeights[$0] == 0 }
        let interference = InterferenceAnalysis.interferenceWeights(lifted, ideal: idealWeights)
        var curves = WeightScores.Kind.allCases.map { kind in
            InterferenceMetrics.Curve(RankingCurve(name: kind.rawValue, scores: scores.values[kind]!, deltaLoss: ablation.deltaLoss, real: real))
        }
        let learned = config.learnedScores.map {
            learnedScores(lifted, evaluation: evaluation, targets: targets, ablation: ablation, real: real, reduction: config.reduction, settings: $0)
        }
        curves += learned?.1 ?? []
        let realCount = real.filter { $0 }.count
        let supportCount = Double(max(1, diagonal.count))
        let diagonalMean = diagonal.map { Double(lifted.virtualWeights[$0]) }.reduce(0, +) / supportCount
        return .init(seed: seed, evaluationLoss: evaluationLoss, liftedLoss: ablation.baseLoss, realCount: realCount,
                     realBaseRate: Double(realCount) / Double(n * n),
                     realDiagonalCount: diagonal.filter { real[$0] }.count,
                     realOffDiagonalCount: offDiagonal.filter { real[$0] }.count,
                     minimumDiagonalDeltaLoss: diagonal.map { ablation.deltaLoss[$0] }.min() ?? 0,
                     maximumOffDiagonalDeltaLoss: offDiagonal.map { ablation.deltaLoss[$0] }.max() ?? 0,
                     harmfulCount: offDiagonal.filter { ablation.deltaLoss[$0] < 0 }.count,
                     meanDiagonalShrinkage: diagonal.map { -Double(interference[$0]) }.reduce(0, +) / supportCount,
                     diagonalMean: diagonalMean,
                     diagonalStandardDeviation: (diagonal.map { pow(Double(lifted.virtualWeights[$0]) - diagonalMean, 2) }.reduce(0, +) / supportCount).squareRoot(),
                     offDiagonalRMS: (offDiagonal.map { Double(interference[$0] * interference[$0]) }.reduce(0, +) / Double(max(1, offDiagonal.count))).squareRoot(),
                     deltaLossSeconds: seconds, unstableTWERARows: scores.unstableTWERARows,
                     virtualWeights: lifted.virtualWeights, deltaLoss: ablation.deltaLoss, curves: curves, learnedScores: learned?.0,
                     idealSlope: InterferenceAnalysis.shrinkageSlope(lifted, ideal: idealWeights))
    }

    /// Trains every (variant, seed) model and measures it, without writing anything.
    /// - Parameter progress: a progress callback for each training job, given its title.
    public static func train(_ config: InterferenceConfig,
                             progress: (String) -> (@Sendable (TrainingProgress) -> Void)? = { _ in nil })
        throws -> (tensors: [String: Tensor], layout: String, metrics: InterferenceMetrics) {
        try config.validate()
        if let path = config.modelPath { return try analyseSaved(config, path: path) }
        if let circuit = config.circuit { return trainCircuit(config, circuit: circuit, progress: progress) }
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
                                                   importance: Tensor(shape: [1, n], scalars: config.importanceVector()),
                                                   settings: config.settings(variant: variant, seed: seed),
                                                   progress: progress("\(config.name) \(variant.name) seed \(seed)"))
                trainingSeconds += Date().timeIntervalSince(t0)
                trained.append(result.model)
                measured.append(analyse(result.model, seed: seed, evaluationLoss: result.evaluationLoss[0],
                                        evaluation: evaluation, config: config))
            }
            variants.append(compare(variant, models: measured, ideal: InterferenceAnalysis.identity(n),
                                    epsilon: config.epsilon, trainingSeconds: trainingSeconds))
            models[variant.name] = trained
        }
        let metrics = InterferenceMetrics(experiment: config.name, features: n, hidden: config.hidden,
                                          featureProbability: config.featureProbability, epsilon: config.epsilon,
                                          reduction: config.reduction, evaluationSamples: config.evaluationSamples, variants: variants)
        var tensors: [String: Tensor] = [:]
        for (name, list) in models {
            tensors["W.\(name)"] = Tensor.stacked(list.map { $0.weights.slice(0) })
            tensors["b_final.\(name)"] = Tensor.stacked(list.map { $0.bias.slice(0) })
        }
        return (tensors, "W.<variant>: [seed, m, n], b_final.<variant>: [seed, n]; U = WᵀW; seeds as in config.json", metrics)
    }

    /// The first two models of a variant compared: correlations over the ideal's support ("diagonal")
    /// and the rest, over all weights, and over the weights real (or interference) in both.
    static func compare(_ variant: InterferenceConfig.Variant, models measured: [InterferenceMetrics.Model], ideal: [Float],
                        epsilon: Double, trainingSeconds: Double) -> InterferenceMetrics.Variant {
        let (a, b) = (measured[0].virtualWeights, measured[1].virtualWeights)
        let (first, second) = (InterferenceAnalysis.realWeights(deltaLoss: measured[0].deltaLoss, epsilon: epsilon),
                               InterferenceAnalysis.realWeights(deltaLoss: measured[1].deltaLoss, epsilon: epsilon))
        let diagonal = ideal.indices.filter { ideal[$0] != 0 }, off = ideal.indices.filter { ideal[$0] == 0 }
        let realBoth = a.indices.filter { first[$0] && second[$0] }, interferenceBoth = a.indices.filter { !first[$0] && !second[$0] }
        func r(_ indices: [Int]) -> Double { correlation(indices.map { Double(a[$0]) }, indices.map { Double(b[$0]) }) }
        return .init(name: variant.name, steps: variant.steps, models: measured,
                     diagonalCorrelation: r(diagonal), offDiagonalCorrelation: r(off), allWeightsCorrelation: r(Array(a.indices)),
                     diagonalRMSDifference: (diagonal.map { pow(Double(a[$0] - b[$0]), 2) }.reduce(0, +) / Double(max(1, diagonal.count))).squareRoot(),
                     trainingSeconds: trainingSeconds, realCorrelation: r(realBoth), interferenceCorrelation: r(interferenceBoth),
                     realInBothCount: realBoth.count, frozenDown: variant.frozenDown)
    }

    /// Trains, measures, and writes config.json, model.safetensors, metrics.json, figures/*.svg and report.html.
    ///
    /// model.safetensors holds, per variant V, `W.V: [seed, m, n]` and `b_final.V: [seed, n]` (seeds in config order);
    /// for the untied circuit `W_down.V: [seed, m, n]`, `W_up.V: [seed, n, m]`, `b.V: [seed, n]`, and `A: [n, n]`, `v: [n]`.
    public static func run(_ config: InterferenceConfig, under root: URL,
                           progress: (String) -> (@Sendable (TrainingProgress) -> Void)? = { _ in nil }) throws -> Outcome {
        try config.validate()
        return try RunFolder.create(under: root, experiment: config.name) { folder in
            let (tensors, layout, metrics) = try train(config, progress: progress)
            // A saved model's sizes come from its file.
            var config = config
            (config.features, config.hidden) = (metrics.features, metrics.hidden)
            try folder.write(config: config, metrics: metrics) {
                try SafeTensors.write(tensors, metadata: ["format": "superposition.interference.v1", "layout": layout], to: $0)
            }
            let report = try InterferenceReport(config: config, metrics: metrics).write(to: folder)
            return Outcome(folder: folder, metrics: metrics, report: report)
        }
    }
}
