import Foundation
import TensorCore
import ToyModels

/// A Toy Models of Superposition experiment: the model, its data and how it is trained.
/// Encoded as the run's config.json; decoding it again reproduces the run.
public struct TMSConfig: Codable, Equatable, Sendable {
    /// Names the run folder, e.g. "T1".
    public var name: String
    public var kind: ToyModel.Kind = .reluOutput
    /// n, the number of features.
    public var features: Int
    /// m, the number of hidden dimensions.
    public var hidden: Int
    /// Models trained side by side, each with its own feature probability.
    public var instances: Int
    public var importance: ImportanceLaw = .uniform
    public var featureProbability: FeatureProbabilityLaw = .constant(1)
    public var featureValues: FeatureValues = .unitInterval
    /// Independent features, or correlated / anticorrelated pairs (2k, 2k + 1).
    public var correlation: FeatureCorrelation = .independent
    public var training: TrainingSettings = TrainingSettings()
    /// Settings the papers do not state, with the value chosen and why; shown in the report.
    public var notes: [String] = []

    public init(name: String, features: Int, hidden: Int, instances: Int) {
        self.name = name
        self.features = features
        self.hidden = hidden
        self.instances = instances
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, features, hidden, instances, importance, featureProbability, featureValues, correlation, training, notes
    }

    /// Decodes a config; only name, features, hidden and instances are required, the rest default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        features = try c.decode(Int.self, forKey: .features)
        hidden = try c.decode(Int.self, forKey: .hidden)
        instances = try c.decode(Int.self, forKey: .instances)
        kind = try c.decodeIfPresent(ToyModel.Kind.self, forKey: .kind) ?? kind
        importance = try c.decodeIfPresent(ImportanceLaw.self, forKey: .importance) ?? importance
        featureProbability = try c.decodeIfPresent(FeatureProbabilityLaw.self, forKey: .featureProbability) ?? featureProbability
        featureValues = try c.decodeIfPresent(FeatureValues.self, forKey: .featureValues) ?? featureValues
        correlation = try c.decodeIfPresent(FeatureCorrelation.self, forKey: .correlation) ?? correlation
        training = try c.decodeIfPresent(TrainingSettings.self, forKey: .training) ?? training
        notes = try c.decodeIfPresent([String].self, forKey: .notes) ?? notes
    }

    /// Throws a one-line error naming the first invalid setting.
    public func validate() throws {
        if name.isEmpty || name.contains("/") { throw ExperimentError("name must be non-empty and contain no '/', got '\(name)'") }
        if features < 1 { throw ExperimentError("n (features) must be at least 1, got \(features)") }
        if hidden < 1 { throw ExperimentError("m (hidden dimensions) must be at least 1, got \(hidden)") }
        if instances < 1 { throw ExperimentError("instances must be at least 1, got \(instances)") }
        // In Double, so absurd sizes give this error rather than an integer overflow.
        let parameterCount = Double(features) * Double(hidden) * Double(instances)
        if parameterCount > 50_000_000 {
            throw ExperimentError("model too large: n·m·instances = \(Int(min(parameterCount, 9e18))), the limit is 50,000,000")
        }
        let batchEntries = Double(training.batchSize) * Double(features) * Double(instances)
        if batchEntries > 200_000_000 {
            throw ExperimentError("batch too large: batch·n·instances = \(Int(min(batchEntries, 9e18))), the limit is 200,000,000 (800 MB of inputs)")
        }
        if let problem = training.problem { throw ExperimentError(problem) }
        if let problem = featureValues.problem { throw ExperimentError(problem) }
        _ = try importance.resolve(featureCount: features)
        if let problem = try distribution().problem { throw ExperimentError(problem) }
    }

    /// The data distribution, `[instance, n]` probabilities.
    public func distribution() throws -> FeatureDistribution {
        FeatureDistribution(instanceProbabilities: try featureProbability.resolve(instanceCount: instances),
                            featureCount: features, values: featureValues, correlation: correlation)
    }

    /// `[instance, n]` importances.
    public func importanceTensor() throws -> Tensor {
        let row = try importance.resolve(featureCount: features)
        return Tensor(shape: [instances, features], scalars: Array((0..<instances).map { _ in row }.joined()))
    }
}
