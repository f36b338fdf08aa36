import Decomposition
import Foundation
import TensorCore
import ToyModels

/// Runs an `APDConfig`: gets the target (trains it or reads it), decomposes it, measures the
/// components, and writes the run folder.
public enum APDExperiment {
    public struct Outcome: Sendable {
        public var folder: RunFolder
        /// The toy-model target's metrics, or the residual MLP's.
        public var metrics: APDMetrics?
        public var residualMetrics: ResidualAPDMetrics?
        public var gatedMetrics: GatedAPDMetrics?
        public var report: URL
    }

    /// The target model: read from `config.target.file`, or trained; with its per-instance loss and training time.
    public static func target(_ config: APDConfig, progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws
        -> (model: ToyModel, loss: [Float], seconds: Double) {
        guard let spec = config.target else { throw ExperimentError("a toyModel config needs a 'target'") }
        if let file = spec.file {
            let model = try ToyModelCheckpoint.load(from: URL(fileURLWithPath: file))
            guard model.kind == .reluOutput else { throw ExperimentError("\(file): APD's TMS target must be a reluOutput toy model, this one is \(model.kind.rawValue)") }
            return (model, [], 0)
        }
        let distribution = FeatureDistribution(instanceProbabilities: Array(repeating: spec.featureProbability, count: spec.instances),
                                               featureCount: spec.features)
        let start = Date()
        let result = ToyModelTrainer.train(kind: .reluOutput, hidden: spec.hidden, distribution: distribution,
                                           importance: Tensor(repeating: 1, shape: [spec.instances, spec.features]),
                                           settings: spec.training, progress: progress)
        guard result.model.weights.scalars.allSatisfy(\.isFinite) else { throw ExperimentError("target training diverged") }
        return (result.model, result.evaluationLoss, Date().timeIntervalSince(start))
    }

    /// Decomposes `model` and measures the components, without writing anything.
    public static func decompose(_ model: ToyModel, config: APDConfig, targetLoss: [Float], targetSeconds: Double,
                                 progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> (APDResult, APDMetrics) {
        try config.validate()
        let (n, m) = (model.featureCount, model.hiddenCount)
        let probability = config.target?.featureProbability ?? 0.05
        let distribution = FeatureDistribution(instanceProbabilities: Array(repeating: probability, count: model.instanceCount),
                                               featureCount: n)
        let target = TiedToyModelTarget(model: model, distribution: distribution)
        let settings = config.decomposition
        let result = try decompose(target, settings: settings, progress: progress)
        var instances: [APDMetrics.Instance] = []
        for i in 0..<model.instanceCount {
            let p = result.instance(i)
            let w = target.targetWeight(layer: 0, instance: i)
            let components = p.withUnsafeBufferPointer { b in (0..<settings.components).map { result.layout.componentWeight(layer: 0, component: $0, parameters: b.baseAddress!) } }
            func row(_ x: [Float], _ f: Int) -> [Float] { Array(x[(f * m)..<((f + 1) * m)]) }
            func length(_ r: [Float]) -> Double { r.map { Double($0) * Double($0) }.reduce(0, +).squareRoot() }
            instances.append(.init(
                index: i, alignment: ComponentAlignment(target: w, components: components, rows: n, columns: m),
                relativeParameterError: result.relativeParameterErrors(of: target, instance: i)[0],
                targetLoss: i < targetLoss.count ? targetLoss[i] : nil, finalTerms: result.finalTerms[i], seed: result.seeds[i],
                rowShare: components.map { wc in (0..<n).map { f in length(row(wc, f)) / max(length(row(w, f)), 1e-12) } },
                targetRows: (0..<n).map { row(w, $0) }, componentRows: components.map { wc in (0..<n).map { row(wc, $0) } }))
        }
        let separating = instances.filter(\.alignment.separatesFeatures)
        func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }
        func sd(_ v: [Double]) -> Double? {
            guard let mu = mean(v) else { return nil }
            return (v.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(v.count)).squareRoot()
        }
        let summary = APDMetrics.Summary(
            meanMMCS: mean(instances.map(\.alignment.meanMaxCosineSimilarity)) ?? 0, meanML2R: mean(instances.map(\.alignment.meanL2Ratio)) ?? 0,
            separatingInstances: separating.map(\.index),
            meanMMCSSeparating: mean(separating.map(\.alignment.meanMaxCosineSimilarity)), meanML2RSeparating: mean(separating.map(\.alignment.meanL2Ratio)),
            standardDeviationMMCSSeparating: sd(separating.map(\.alignment.meanMaxCosineSimilarity)),
            standardDeviationML2RSeparating: sd(separating.map(\.alignment.meanL2Ratio)))
        let threads = settings.threads == 0 ? min(ProcessInfo.processInfo.activeProcessorCount, model.instanceCount) : min(settings.threads, model.instanceCount)
        let metrics = APDMetrics(experiment: config.name, features: n, hidden: m, components: settings.components, rank: settings.rank,
                                 instances: instances, summary: summary, history: meanHistory(result.history),
                                 targetTrainingSeconds: targetSeconds, decompositionSeconds: result.seconds,
                                 stepsPerSecond: Double(settings.steps) / max(result.seconds, 1e-9), threads: threads)
        return (result, metrics)
    }

    /// `APDTrainer.decompose`, its configuration errors as one-line `ExperimentError`s.
    static func decompose(_ target: some DecomposableTarget, settings: APDSettings,
                          progress: (@Sendable (TrainingProgress) -> Void)?) throws -> APDResult {
        do { return try APDTrainer.decompose(target, settings: settings, progress: progress) } catch let error as DecompositionError {
            throw ExperimentError(error.description)
        }
    }

    /// The loss terms averaged over instances at each recorded step.
    static func meanHistory(_ history: APDHistory) -> APDHistory {
        APDHistory(steps: history.steps, terms: history.terms.map { row in
            var mean = APDLossTerms()
            let count = Double(max(row.count, 1))
            for t in row {
                mean.parameterMatch += t.parameterMatch / count
                mean.topKReconstruction += t.topKReconstruction / count
                mean.activationReconstruction += t.activationReconstruction / count
                mean.schatten += t.schatten / count
                mean.lpSparsity += t.lpSparsity / count
                mean.total += t.total / count
            }
            return [mean]
        })
    }

    /// Trains (or reads) the target, decomposes it, and writes config.json, model.safetensors,
    /// metrics.json, figures/*.svg and report.html to a new run folder under `root`.
    ///
    /// model.safetensors holds the target (`W: [instance, m, n]`, `b_final: [instance, n]`) and the
    /// components as the reference's tensors: `components.W.A: [instance, C, n, rank]`,
    /// `components.W.B: [instance, C, rank, m]`.
    public static func run(_ config: APDConfig, under root: URL,
                           targetProgress: (@Sendable (TrainingProgress) -> Void)? = nil,
                           progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> Outcome {
        try config.validate()
        if config.kind == .residualMLP {
            return try ResidualAPDExperiment.run(config, under: root, targetProgress: targetProgress, progress: progress)
        }
        if config.kind == .gatedFunctions {
            return try GatedAPDExperiment.run(config, under: root, progress: progress)
        }
        return try RunFolder.create(under: root, experiment: config.name) { folder in
            let (model, loss, seconds) = try target(config, progress: targetProgress)
            let (result, metrics) = try decompose(model, config: config, targetLoss: loss, targetSeconds: seconds, progress: progress)
            let (c, k, n, m, count) = (config.decomposition.components, config.decomposition.rank, model.featureCount, model.hiddenCount, model.instanceCount)
            var a: [Float] = [], b: [Float] = []
            for i in 0..<count {
                let p = result.instance(i)
                a += p[result.layout.aOffsets[0] ..< result.layout.aOffsets[0] + c * n * k]
                b += p[result.layout.bOffsets[0] ..< result.layout.bOffsets[0] + c * k * m]
            }
            try folder.write(config: config, metrics: metrics) {
                try SafeTensors.write([ToyModelCheckpoint.weightsName: model.weights, ToyModelCheckpoint.biasName: model.bias,
                                       "components.W.A": Tensor(shape: [count, c, n, k], scalars: a),
                                       "components.W.B": Tensor(shape: [count, c, k, m], scalars: b)],
                                      metadata: ["format": "superposition.apd.v1", "kind": ToyModel.Kind.reluOutput.rawValue,
                                                 "layout": "W: [instance, m, n], b_final: [instance, n]; components.W.A: [instance, C, n, rank], components.W.B: [instance, C, rank, m]; Wᵀ ≈ Σ_c A_c B_c"],
                                      to: $0)
            }
            let report = try APDReport(config: config, metrics: metrics).write(to: folder)
            return Outcome(folder: folder, metrics: metrics, residualMetrics: nil, gatedMetrics: nil, report: report)
        }
    }
}
