import Analysis
import Foundation
import TensorCore
import ToyModels

/// A trained phase diagram (Toy Models of Superposition, section "Phase changes"): n features in
/// m dimensions, one model instance per grid cell. Columns sweep the feature density 1 − S (the same
/// for every feature), log-spaced from `densest` to `sparsest`; rows sweep the relative importance
/// of the last feature, log-spaced from `importanceLow` to `importanceHigh`, the other features
/// having importance 1. Encoded as the run's config.json; decoding it again reproduces the run.
public struct PhaseConfig: Codable, Equatable, Sendable {
    /// Names the run folder, e.g. "phase-2-1".
    public var name: String
    public var kind: ToyModel.Kind = .reluOutput
    /// n, the number of features; the last one's importance varies.
    public var features: Int
    /// m, the number of hidden dimensions.
    public var hidden: Int
    /// Cells per axis: the diagram has grid × grid cells.
    public var grid: Int = 12
    /// Feature density of the first (leftmost) column.
    public var densest: Double = 1
    /// Feature density of the last (rightmost) column.
    public var sparsest: Double = 0.01
    /// Relative importance of the last feature in the bottom row.
    public var importanceLow: Double = 0.1
    /// Relative importance of the last feature in the top row.
    public var importanceHigh: Double = 10
    /// Independently initialised models per cell; the one with the lowest evaluation loss is kept.
    public var restarts: Int = 1
    public var featureValues: FeatureValues = .unitInterval
    public var training: TrainingSettings = TrainingSettings()
    public var classifier: PhaseClassifier = PhaseClassifier()
    /// Settings the paper does not state, with the value chosen and why; shown in the report.
    public var notes: [String] = []

    public init(name: String, features: Int, hidden: Int) {
        self.name = name
        self.features = features
        self.hidden = hidden
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, features, hidden, grid, densest, sparsest, importanceLow, importanceHigh, restarts
        case featureValues, training, classifier, notes
    }

    /// Decodes a config; only name, features and hidden are required, the rest default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        features = try c.decode(Int.self, forKey: .features)
        hidden = try c.decode(Int.self, forKey: .hidden)
        kind = try c.decodeIfPresent(ToyModel.Kind.self, forKey: .kind) ?? kind
        grid = try c.decodeIfPresent(Int.self, forKey: .grid) ?? grid
        densest = try c.decodeIfPresent(Double.self, forKey: .densest) ?? densest
        sparsest = try c.decodeIfPresent(Double.self, forKey: .sparsest) ?? sparsest
        importanceLow = try c.decodeIfPresent(Double.self, forKey: .importanceLow) ?? importanceLow
        importanceHigh = try c.decodeIfPresent(Double.self, forKey: .importanceHigh) ?? importanceHigh
        restarts = try c.decodeIfPresent(Int.self, forKey: .restarts) ?? restarts
        featureValues = try c.decodeIfPresent(FeatureValues.self, forKey: .featureValues) ?? featureValues
        training = try c.decodeIfPresent(TrainingSettings.self, forKey: .training) ?? training
        classifier = try c.decodeIfPresent(PhaseClassifier.self, forKey: .classifier) ?? classifier
        notes = try c.decodeIfPresent([String].self, forKey: .notes) ?? notes
    }

    /// Throws a one-line error naming the first invalid setting.
    public func validate() throws {
        if name.isEmpty || name.contains("/") { throw ExperimentError("name must be non-empty and contain no '/', got '\(name)'") }
        if features < 2 { throw ExperimentError("n (features) must be at least 2 for a phase diagram, got \(features)") }
        if hidden < 1 { throw ExperimentError("m (hidden dimensions) must be at least 1, got \(hidden)") }
        if grid < 2 { throw ExperimentError("grid must be at least 2 (cells per axis), got \(grid)") }
        if grid > 100 { throw ExperimentError("grid must be at most 100 (cells per axis), got \(grid)") }
        if restarts < 1 { throw ExperimentError("restarts must be at least 1, got \(restarts)") }
        for (label, value) in [("densest", densest), ("sparsest", sparsest)] where !(value > 0 && value <= 1) {
            throw ExperimentError("\(label) feature density must be in (0, 1], got \(value)")
        }
        for (label, value) in [("lowest", importanceLow), ("highest", importanceHigh)] where !(value > 0 && value.isFinite) {
            throw ExperimentError("\(label) relative importance must be a positive number, got \(value)")
        }
        if features * hidden * instances > 50_000_000 {
            throw ExperimentError("model too large: n·m·instances = \(features * hidden * instances), the limit is 50,000,000")
        }
        if let problem = training.problem { throw ExperimentError(problem) }
        if let problem = featureValues.problem { throw ExperimentError(problem) }
        if let problem = classifier.problem { throw ExperimentError(problem) }
    }

    /// The feature whose importance varies: the last one, as in the paper.
    public var variedFeature: Int { features - 1 }

    public var cellCount: Int { grid * grid }

    /// Model instances trained side by side: every cell, `restarts` times.
    public var instances: Int { cellCount * restarts }

    /// Feature density of each column, left to right.
    public var densities: [Double] { PhaseConfig.logSpaced(from: densest, to: sparsest, count: grid) }

    /// Relative importance of the last feature in each row, bottom to top.
    public var importances: [Double] { PhaseConfig.logSpaced(from: importanceLow, to: importanceHigh, count: grid) }

    /// Cell `row * grid + column` (row: importance, column: density); instance `restart * cellCount + cell`.
    public func cell(row: Int, column: Int) -> Int { row * grid + column }

    /// `[instance, n]` feature probabilities.
    public func distribution() -> FeatureDistribution {
        let densities = self.densities
        var scalars: [Float] = []
        scalars.reserveCapacity(instances * features)
        for _ in 0..<restarts {
            for _ in 0..<grid {
                for column in 0..<grid {
                    scalars.append(contentsOf: repeatElement(Float(densities[column]), count: features))
                }
            }
        }
        return FeatureDistribution(probabilities: Tensor(shape: [instances, features], scalars: scalars), values: featureValues)
    }

    /// `[instance, n]` importances: 1, …, 1, r(row).
    public func importanceTensor() -> Tensor {
        let importances = self.importances
        var scalars: [Float] = []
        scalars.reserveCapacity(instances * features)
        for _ in 0..<restarts {
            for row in 0..<grid {
                for _ in 0..<grid {
                    scalars.append(contentsOf: repeatElement(1, count: features - 1))
                    scalars.append(Float(importances[row]))
                }
            }
        }
        return Tensor(shape: [instances, features], scalars: scalars)
    }

    static func logSpaced(from first: Double, to last: Double, count: Int) -> [Double] {
        guard count > 1 else { return [first] }
        let (a, b) = (log(first), log(last))
        return (0..<count).map { i in
            if i == 0 { return first }
            if i == count - 1 { return last }
            return exp(a + (b - a) * Double(i) / Double(count - 1))
        }
    }
}

/// The named phase diagrams of the paper.
public enum PhasePreset: String, CaseIterable, Sendable {
    case twoInOne = "2-1"
    case threeInTwo = "3-2"

    /// The preset named `name`, or a one-line error listing the known names.
    public static func named(_ name: String) throws -> PhasePreset {
        guard let preset = PhasePreset(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
            throw ExperimentError("unknown preset '\(name)'; choose \(allCases.map(\.rawValue).joined(separator: " or "))")
        }
        return preset
    }

    public var config: PhaseConfig {
        var config: PhaseConfig
        switch self {
        case .twoInOne: config = PhaseConfig(name: "phase-2-1", features: 2, hidden: 1)
        case .threeInTwo: config = PhaseConfig(name: "phase-3-2", features: 3, hidden: 2)
        }
        config.restarts = 8
        config.training.steps = 2500
        config.training.evaluationBatches = 100
        config.notes = PhaseConfig.standardNotes
        return config
    }
}

extension PhaseConfig {
    /// Why the unstated settings have the values they have.
    static let standardNotes: [String] = [
        "Training: the notebook's optimiser (AdamW, learning rate 0.001, weight decay 0.01, constant rate, batch 1024) for 2,500 steps, 8 independently initialised models per cell, the one with the lowest evaluation loss (100 fresh batches) kept. The paper does not state how its phase diagrams were trained. Measured for n=2, m=1 on the 12 × 12 grid (seed 0): a single model per cell lands in a local minimum in 43 of 144 cells (near importance 1 at sparse densities, one feature dropped or given the dimension alone instead of the antipodal pair); with 8 restarts the classes at 2,500 steps and at 10,000 steps are identical in all 144 cells, and 7 restarts already give the same diagram.",
        "At the sparsest densities of n=3, m=2 every configuration with all three features represented loses almost nothing (evaluation losses around 1e-5), so which feature shares a dimension there (dedicated versus superposition for the last one) is decided by differences near the evaluation noise.",
        "Grid: feature density 1 − S log-spaced from 1 to 0.01 (all features share it), the last feature's relative importance log-spaced from 0.1 to 10, the other features' importance 1; chosen to match the ranges of the paper's figure.",
        "Classification of the last feature: not represented when ‖W_last‖ < 0.5 (the package's representation threshold); otherwise superposition when max_j |Ŵ_last · Ŵ_j| ≥ 0.3 over the other represented features, dedicated dimension when below. An antipodal pair has overlap 1, a triangle 0.5, orthogonal features 0.",
    ]
}
