import Foundation
import ToyModels

/// I5, the note's Appendix 2: converged tied toy models with uniform importance, whose virtual
/// weights show the pentagonal histogram at density 0.25 and an upper bound on interference weights
/// at density 0.001. All instances train at once, one density each.
public struct UniformSuperpositionConfig: Codable, Equatable, Sendable {
    public var name: String
    public var features: Int
    public var hidden: Int
    /// One instance per entry (repeat a density for more models at it).
    public var densities: [Float]
    /// The density whose pentagons are measured and plotted (the note: 0.25).
    public var pentagonDensity: Float
    /// The density whose interference bound is measured and plotted (the note: 0.001).
    public var sparseDensity: Float
    public var training: TrainingSettings
    /// Settings the note leaves unstated and the values chosen, shown in the report.
    public var notes: [String]

    public init(name: String, features: Int, hidden: Int, densities: [Float], pentagonDensity: Float, sparseDensity: Float) {
        self.name = name
        self.features = features
        self.hidden = hidden
        self.densities = densities
        self.pentagonDensity = pentagonDensity
        self.sparseDensity = sparseDensity
        training = TrainingSettings()
        notes = []
    }

    public func validate() throws {
        if features < 2 || features > 2048 { throw ExperimentError("features must be in 2...2048, got \(features)") }
        if hidden < 1 || hidden > features { throw ExperimentError("hidden must be in 1...\(features), got \(hidden)") }
        if densities.isEmpty || densities.count > 64 { throw ExperimentError("need 1 to 64 densities (one per instance), got \(densities.count)") }
        for p in densities where !(p > 0 && p <= 1) { throw ExperimentError("densities must be in (0, 1], got \(p)") }
        for p in [pentagonDensity, sparseDensity] where !densities.contains(p) {
            throw ExperimentError("density \(p) is measured but no instance trains at it; densities are \(densities)")
        }
        if training.steps > 10_000_000 { throw ExperimentError("steps must be at most 10000000, got \(training.steps)") }
        if let problem = training.problem { throw ExperimentError(problem) }
    }

    func distribution() -> FeatureDistribution {
        FeatureDistribution(instanceProbabilities: densities, featureCount: features)
    }

    /// Instances trained at `density`.
    func instances(at density: Float) -> [Int] { densities.indices.filter { densities[$0] == density } }
}

public enum UniformSuperpositionPreset {
    /// I5: n = 50, m = 20; three models at density 0.25, one at 0.001; 20,000 steps.
    public static var i5: UniformSuperpositionConfig {
        var c = UniformSuperpositionConfig(name: "I5", features: 50, hidden: 20, densities: [0.25, 0.25, 0.25, 0.001],
                                           pentagonDensity: 0.25, sparseDensity: 0.001)
        c.training.steps = 20_000
        c.training.seed = 1
        c.notes = [
            "As the note states: tied ReLU-output toy model, importance 1 for every feature, densities 0.25 and 0.001, values U[0, 1], trained towards convergence.",
            "The note does not state n and m. Chosen: n = 50, m = 20, so m/n = 2/5 is exactly a pentagon's dimensions per feature and every feature could sit in one. Tried at density 0.25 (10,000 steps, four models each): n/m = 10/4 gave only antipodal pairs (two features dropped); 20/8 two pentagons and four antipodal pairs; 25/10 one to four pentagons; 40/16 three; 50/20 two to four (the rest antipodal pairs and a few larger groups); 60/20, 75/20 and 100/20 one pentagon at most among about twenty antipodal pairs. Density 0.25 sits near the boundary between antipodal pairs (1/2 dimension per feature) and pentagons (2/5), so a model mixes both: the histogram shows peaks at −1, 0.309 and −0.809.",
            "The note does not state the training length. Chosen: 20,000 steps (twice the Toy Models notebook's 10,000; batch 1024, AdamW lr 1e-3, weight decay 0.01, constant rate); a cosine decay over 20,000 steps gave the same mix (two to four pentagons per model). Three models (different initialisations and data) at density 0.25 and one at 0.001, all trained at once; on the current data stream they hold 1, 4 and 4 pentagons (the sweep above was measured on an earlier stream of the same distribution).",
            "Normalised weight: U_ij / √(U_ii U_jj) = Ŵ_i · Ŵ_j, the cosine between the two features' directions, over pairs of represented features (‖W_i‖ > 0.5). Pentagons are the groups the feature-geometry summary (Analysis/Geometry/FeatureGeometry) names pentagon: five features, each with two neighbours at 72° ± 10° and two at 144° ± 10°, and D_i within 0.1 of 2/5.",
            "The note does not explain the upper bound at density 0.001. This run compares it with the firing threshold −b_i (output i stays silent on a lone input x_j ≤ 1 whenever U_ij ≤ −b_i) and reports the largest ratio U_ij / (−b_i): the weights pile up around the threshold and stop a little above it (1.42 at seed 1), where a lone input fires output i only near the top of its range.",
        ]
        return c
    }
}
