import Analysis
import ToyModels

/// Every number a TMS run reports, written to metrics.json.
public struct TMSMetrics: Codable, Sendable {
    /// One model instance's numbers.
    public struct Instance: Codable, Sendable {
        public var index: Int
        /// p, the probability each feature is present.
        public var featureProbability: Float
        /// S = 1 − p.
        public var sparsity: Float
        /// Loss on fresh batches after training (mean over batch and features, importance-weighted).
        public var evaluationLoss: Float
        /// Loss of the last training batch.
        public var finalTrainingLoss: Float
        /// Geometry of W: norms, superposition, feature dimensionality, dimensions per feature.
        public var geometry: SuperpositionMetrics
        /// Which polytopes the represented features form (dedicated, antipodal pairs, pentagons, …).
        /// Nil in metrics.json files written before it existed; `TMSReport` fills it in from the model.
        public var featureGeometry: FeatureGeometry? = nil
    }

    public var experiment: String
    public var kind: ToyModel.Kind
    public var features: Int
    public var hidden: Int
    public var importance: [Float]
    public var instances: [Instance]
    public var meanEvaluationLoss: Float
    public var lossHistory: TrainingHistory
    public var timing: Timing

    public struct Timing: Codable, Sendable {
        public var trainingSeconds: Double
        public var stepsPerSecond: Double
        public var threads: Int
    }
}
