import TensorCore
import ToyModels

/// How a trained toy model stores one feature, as in the phase diagrams of Toy Models of
/// Superposition (section "Phase changes").
public enum FeaturePhase: String, Codable, CaseIterable, Sendable {
    /// ‖W_k‖ is small: the model drops the feature.
    case notRepresented
    /// The feature is represented and orthogonal to every other represented feature.
    case dedicatedDimension
    /// The feature is represented and shares a direction with another represented feature.
    case superposition

    /// A short human-readable name, e.g. for a legend.
    public var title: String {
        switch self {
        case .notRepresented: return "not represented"
        case .dedicatedDimension: return "dedicated dimension"
        case .superposition: return "superposition"
        }
    }
}

/// Classifies one feature of a trained model into a ``FeaturePhase``.
///
/// With W_k the column of feature k and Ŵ_k = W_k / ‖W_k‖:
/// - not represented: ‖W_k‖ < `normThreshold`;
/// - otherwise, with the overlap max_j |Ŵ_k · Ŵ_j| over the *other represented* features j
///   (‖W_j‖ ≥ `normThreshold`; a dropped feature's leftover direction is not a shared dimension):
///   superposition when the overlap ≥ `overlapThreshold`, dedicated dimension when below.
///
/// The default overlap threshold 0.3 lies well below the overlaps of the superposition geometries
/// (1 for an antipodal pair, 0.5 for a triangle in the plane) and well above an orthogonal pair (0).
public struct PhaseClassifier: Codable, Equatable, Sendable {
    /// A feature with ‖W_k‖ below this is not represented (the same 0.5 as `SuperpositionMetrics`).
    public var normThreshold: Float
    /// |cos| between represented features at or above which they share a dimension.
    public var overlapThreshold: Float

    public init(normThreshold: Float = SuperpositionMetrics.representationThreshold, overlapThreshold: Float = 0.3) {
        self.normThreshold = normThreshold
        self.overlapThreshold = overlapThreshold
    }

    /// A one-line error for invalid thresholds, nil when valid.
    public var problem: String? {
        if !(normThreshold > 0 && normThreshold.isFinite) { return "norm threshold must be a positive number, got \(normThreshold)" }
        if !(overlapThreshold > 0 && overlapThreshold < 1) { return "overlap threshold must be in (0, 1), got \(overlapThreshold)" }
        return nil
    }

    /// What the classifier measured for one feature.
    public struct Result: Codable, Equatable, Sendable {
        public var phase: FeaturePhase
        /// ‖W_k‖.
        public var norm: Float
        /// max_j |Ŵ_k · Ŵ_j| over the other represented features; 0 when there is none or W_k = 0.
        public var maxOverlap: Float
        /// The represented feature j attaining `maxOverlap`, if any.
        public var overlapFeature: Int?
        /// ‖W_j‖ of every feature.
        public var featureNorms: [Float]
    }

    /// Classifies feature `k` of one instance's weights `w: [m, n]`.
    public func classify(weights w: Tensor, feature k: Int) -> Result {
        precondition(w.rank == 2, "weights must be [m, n], got \(w.shape)")
        let (m, n) = (w.shape[0], w.shape[1])
        precondition((0..<n).contains(k), "feature \(k) out of range 0..<\(n)")
        let s = w.scalars
        func dot(_ i: Int, _ j: Int) -> Float {
            var total: Float = 0
            for r in 0..<m { total += s[r * n + i] * s[r * n + j] }
            return total
        }
        let norms = (0..<n).map { dot($0, $0).squareRoot() }
        let norm = norms[k]
        var overlap: Float = 0
        var partner: Int?
        if norm > 0 {
            for j in 0..<n where j != k && norms[j] >= normThreshold {
                let cosine = abs(dot(k, j)) / (norm * norms[j])
                if partner == nil || cosine > overlap { overlap = cosine; partner = j }
            }
        }
        let phase: FeaturePhase
        if !(norm >= normThreshold) {
            phase = .notRepresented
        } else if overlap >= overlapThreshold {
            phase = .superposition
        } else {
            phase = .dedicatedDimension
        }
        return Result(phase: phase, norm: norm, maxOverlap: min(overlap, 1), overlapFeature: partner, featureNorms: norms)
    }

    /// Classifies feature `k` of every instance of `model`.
    public func classify(_ model: ToyModel, feature k: Int) -> [Result] {
        let (m, n) = (model.hiddenCount, model.featureCount)
        return (0..<model.instanceCount).map { i in
            let slice = Array(model.weights.scalars[i * m * n ..< (i + 1) * m * n])
            return classify(weights: Tensor(shape: [m, n], scalars: slice), feature: k)
        }
    }
}
