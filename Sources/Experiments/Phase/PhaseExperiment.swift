import Analysis
import Foundation
import TensorCore
import ToyModels

/// The numbers of a phase-diagram run, written as metrics.json.
public struct PhaseMetrics: Codable, Equatable, Sendable {
    /// One grid cell: its swept values, what the classifier measured, and its loss.
    public struct Cell: Codable, Equatable, Sendable {
        /// The cell's index: `row * grid + column`, also its instance in model.safetensors.
        public var index: Int
        /// Importance row (0 at the bottom, lowest importance).
        public var row: Int
        /// Density column (0 at the left, densest).
        public var column: Int
        /// Feature density 1 − S of every feature.
        public var density: Double
        public var sparsity: Double
        /// Importance of the last feature relative to the others (which have importance 1).
        public var importance: Double
        public var phase: FeaturePhase
        /// ‖W_last‖.
        public var norm: Float
        /// max_j |Ŵ_last · Ŵ_j| over the other represented features.
        public var maxOverlap: Float
        public var overlapFeature: Int?
        /// ‖W_j‖ of every feature.
        public var featureNorms: [Float]
        public var evaluationLoss: Float
        /// The restart kept (lowest evaluation loss), 0 when `restarts` is 1.
        public var restart: Int
        /// Every restart's evaluation loss and phase, in restart order.
        public var restartLosses: [Float]
        public var restartPhases: [FeaturePhase]
    }

    public struct Timing: Codable, Equatable, Sendable {
        public var trainingSeconds: Double
        public var stepsPerSecond: Double
        public var threads: Int
    }

    public var experiment: String
    public var features: Int
    public var hidden: Int
    public var grid: Int
    public var variedFeature: Int
    /// Column densities, left to right.
    public var densities: [Double]
    /// Row importances, bottom to top.
    public var importances: [Double]
    public var classifier: PhaseClassifier
    /// Cells in index order (rows of `grid` columns, bottom row first).
    public var cells: [Cell]
    /// Cells per phase.
    public var phaseCounts: [String: Int]
    public var timing: Timing

    /// `phases[row][column]`.
    public var phaseGrid: [[FeaturePhase]] {
        (0..<grid).map { row in (0..<grid).map { cells[row * grid + $0].phase } }
    }
}

/// Runs a `PhaseConfig`: trains every cell at once, classifies, and writes the run folder.
public enum PhaseExperiment {
    public struct Outcome: Sendable {
        public var folder: RunFolder
        /// W: `[cell, m, n]` (the kept restart of each cell).
        public var model: ToyModel
        public var metrics: PhaseMetrics
        public var report: URL
    }

    /// Trains and classifies without writing anything. The returned model holds one instance per cell.
    public static func train(_ config: PhaseConfig,
                             progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> (ToyModel, PhaseMetrics) {
        try config.validate()
        let start = Date()
        let result = ToyModelTrainer.train(kind: config.kind, hidden: config.hidden, distribution: config.distribution(),
                                           importance: config.importanceTensor(), settings: config.training, progress: progress)
        let seconds = Date().timeIntervalSince(start)
        let (m, n, cellCount) = (config.hidden, config.features, config.cellCount)
        let all = config.classifier.classify(result.model, feature: config.variedFeature)
        let (densities, importances) = (config.densities, config.importances)

        var weights: [Float] = [], bias: [Float] = []
        var cells: [PhaseMetrics.Cell] = []
        for cell in 0..<cellCount {
            let instances = (0..<config.restarts).map { $0 * cellCount + cell }
            let losses = instances.map { result.evaluationLoss[$0] }
            var best = 0
            for r in losses.indices where losses[r] < losses[best] { best = r }
            let instance = instances[best]
            weights += result.model.weights.scalars[instance * m * n ..< (instance + 1) * m * n]
            bias += result.model.bias.scalars[instance * n ..< (instance + 1) * n]
            let measured = all[instance]
            let (row, column) = (cell / config.grid, cell % config.grid)
            cells.append(PhaseMetrics.Cell(
                index: cell, row: row, column: column, density: densities[column], sparsity: 1 - densities[column],
                importance: importances[row], phase: measured.phase, norm: measured.norm, maxOverlap: measured.maxOverlap,
                overlapFeature: measured.overlapFeature, featureNorms: measured.featureNorms, evaluationLoss: losses[best],
                restart: best, restartLosses: losses, restartPhases: instances.map { all[$0].phase }))
        }
        let model = ToyModel(kind: config.kind, weights: Tensor(shape: [cellCount, m, n], scalars: weights),
                             bias: Tensor(shape: [cellCount, n], scalars: bias))
        var counts: [String: Int] = [:]
        for phase in FeaturePhase.allCases { counts[phase.rawValue] = cells.filter { $0.phase == phase }.count }
        let threads = config.training.threads == 0
            ? min(ProcessInfo.processInfo.activeProcessorCount, config.instances) : min(config.training.threads, config.instances)
        let metrics = PhaseMetrics(
            experiment: config.name, features: n, hidden: m, grid: config.grid, variedFeature: config.variedFeature,
            densities: densities, importances: importances, classifier: config.classifier, cells: cells,
            phaseCounts: counts,
            timing: .init(trainingSeconds: seconds, stepsPerSecond: Double(config.training.steps) / max(seconds, 1e-9), threads: threads))
        return (model, metrics)
    }

    /// Trains, classifies and writes `config.json`, `model.safetensors`, `metrics.json`, `figures/*.svg`
    /// and `report.html` to a new run folder under `root`.
    public static func run(_ config: PhaseConfig, under root: URL,
                           progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> Outcome {
        try config.validate()
        return try RunFolder.create(under: root, experiment: config.name) { folder in
            let (model, metrics) = try train(config, progress: progress)
            try folder.write(config: config, metrics: metrics) { try ToyModelCheckpoint.save(model, to: $0) }
            let report = try PhaseReport(config: config, metrics: metrics).write(to: folder)
            return Outcome(folder: folder, model: model, metrics: metrics, report: report)
        }
    }
}
