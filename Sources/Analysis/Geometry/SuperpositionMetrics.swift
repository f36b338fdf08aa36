import TensorCore
import ToyModels

/// How one instance of a toy model stores its features (Toy Models of Superposition, sections 2 and 7).
///
/// With W_i the column of feature i and Ŵ_i = W_i / ‖W_i‖:
/// - superposition of feature i: Σ_{j≠i} (Ŵ_i · W_j)², how much other features share its direction;
/// - feature dimensionality D_i = ‖W_i‖² / Σ_j (Ŵ_i · W_j)², the fraction of a dimension it gets
///   (1 alone, 1/2 in an antipodal pair, 2/5 in a pentagon);
/// - dimensions per feature: m / ‖W‖²_F.
public struct SuperpositionMetrics: Codable, Equatable, Sendable {
    /// ‖W_i‖ for each feature.
    public var featureNorms: [Float]
    /// Σ_{j≠i} (Ŵ_i · W_j)² for each feature (0 for a feature with W_i = 0).
    public var superposition: [Float]
    /// D_i for each feature (0 for a feature with W_i = 0).
    public var featureDimensionality: [Float]
    /// m / ‖W‖²_F; nil when W = 0 (no feature is represented).
    public var dimensionsPerFeature: Float?
    /// Features with ‖W_i‖ above `representationThreshold`.
    public var representedFeatureCount: Int

    /// The norm above which a feature counts as represented.
    public static let representationThreshold: Float = 0.5

    /// The metrics of one instance's weights `w: [m, n]`.
    public init(weights w: Tensor) {
        precondition(w.rank == 2, "weights must be [m, n], got \(w.shape)")
        let (m, n) = (w.shape[0], w.shape[1])
        let gram = w.matmul(w, transposeSelf: true)  // [n, n]: W_i · W_j
        var norms = [Float](repeating: 0, count: n)
        var superposition = [Float](repeating: 0, count: n)
        var dimensionality = [Float](repeating: 0, count: n)
        var frobenius: Float = 0
        for i in 0..<n {
            let squaredNorm = gram.scalars[i * n + i]
            norms[i] = squaredNorm.squareRoot()
            frobenius += squaredNorm
            guard squaredNorm > 0 else { continue }
            var total: Float = 0  // Σ_j (Ŵ_i · W_j)², j = i included
            for j in 0..<n {
                let projection = gram.scalars[i * n + j]
                total += projection * projection / squaredNorm
            }
            superposition[i] = total - squaredNorm
            dimensionality[i] = squaredNorm / total
        }
        featureNorms = norms
        self.superposition = superposition
        featureDimensionality = dimensionality
        dimensionsPerFeature = frobenius > 0 ? Float(m) / frobenius : nil
        representedFeatureCount = norms.filter { $0 > Self.representationThreshold }.count
    }

    /// The metrics of every instance of a model.
    public static func perInstance(_ model: ToyModel) -> [SuperpositionMetrics] {
        (0..<model.instanceCount).map { SuperpositionMetrics(weights: model.weights.slice($0)) }
    }
}
