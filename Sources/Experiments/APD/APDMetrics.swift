import Decomposition
import Foundation

/// Everything an APD run measured; every number the report shows is here.
public struct APDMetrics: Codable, Equatable, Sendable {
    public struct Instance: Codable, Equatable, Sendable {
        public var index: Int
        /// MMCS, ML2R and the per-feature alignment of components with the target's rows.
        public var alignment: ComponentAlignment
        /// ‖W − Σ_c A_c B_c‖_F / ‖W‖_F.
        public var relativeParameterError: Double
        /// The target's training loss (importance-weighted MSE, mean over batch and features); nil
        /// when the target was read from a file rather than trained.
        public var targetLoss: Float?
        public var finalTerms: APDLossTerms
        /// The decomposition seed of this instance's run: the config's, or with restarts the kept one's
        /// (nil in metrics written before it was recorded).
        public var seed: UInt64?
        /// `[C][n]`: ‖(A_c B_c)[f, :]‖ / ‖W[f, :]‖, how much of feature f's row component c holds.
        public var rowShare: [[Double]]
        /// `[n][m]` target rows and `[C][n][m]` component rows (for the arrow plots).
        public var targetRows: [[Float]]
        public var componentRows: [[[Float]]]
    }

    public struct Summary: Codable, Equatable, Sendable {
        public var meanMMCS: Double
        public var meanML2R: Double
        /// Over the instances that separate features (the paper's reporting).
        public var separatingInstances: [Int]
        public var meanMMCSSeparating: Double?
        public var meanML2RSeparating: Double?
        public var standardDeviationMMCSSeparating: Double?
        public var standardDeviationML2RSeparating: Double?
    }

    public var experiment: String
    public var features: Int
    public var hidden: Int
    public var components: Int
    public var rank: Int
    public var instances: [Instance]
    public var summary: Summary
    /// Loss terms over training, mean over instances: steps and one series per term.
    public var history: APDHistory
    public var targetTrainingSeconds: Double
    public var decompositionSeconds: Double
    /// APD steps per second of wall time (all instances together).
    public var stepsPerSecond: Double
    public var threads: Int
}
