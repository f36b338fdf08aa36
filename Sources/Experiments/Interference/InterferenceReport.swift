import Analysis
import Figures
import Foundation
import TensorCore

/// The figures and report.html of an interference run.
public struct InterferenceReport: RunReport, Sendable {
    public var config: InterferenceConfig
    public var metrics: InterferenceMetrics

    public init(config: InterferenceConfig, metrics: InterferenceMetrics) {
        self.config = config
        self.metrics = metrics
    }

    /// sign(v)·log10(1 + |v|/1e-7): the histogram's colour value.
    static func signedLog(_ value: Double) -> Double {
        (value < 0 ? -1 : 1) * log10(1 + abs(value) / 1e-7)
    }

    public func figures() -> [ReportFigure] {
        let n = metrics.features
        let eps = metrics.epsilon
        var out: [ReportFigure] = []
        for variant in metrics.variants {
            let first = variant.models[0]
            let title = "\(metrics.experiment) \(variant.name) (\(variant.steps) steps)"
            out.append(ReportFigure(
                name: "histogram-\(variant.name)", heading: "Virtual weights coloured by ΔL: \(variant.name)",
                description: "All n² = \(n * n) virtual weights \(virtualWeightsFormula) of seed \(first.seed), each bar coloured by the mean of sign(ΔL)·log10(1 + |ΔL|/10⁻⁷) over its weights (red: ablating them raises the loss, blue: lowers it; a signed log scale so that both the real weights' ΔL of order 10⁻³ and the interference weights' of order 10⁻⁶ show; clipped at ±10ε). The note: a large mass of small interference weights around zero, and the real (diagonal) weights apart from it, coloured by their loss contribution.",
                caption: "ΔL per sample summed over features (\(metrics.reduction.rawValue)), \(metrics.evaluationSamples) evaluation samples. metrics.json: variants[].models[].virtualWeights, deltaLoss",
                figure: Histogram(title: "U coloured by ΔL, \(title), seed \(first.seed)", values: first.virtualWeights, xLabel: "U_ij",
                                  yLabel: "weights", bins: 80, color: .values(first.deltaLoss.map { Self.signedLog($0) }, label: "sign(ΔL)·log10(1 + |ΔL|/1e-7)",
                                                                 scale: .diverging(limit: Self.signedLog(10 * eps))),
                                  yScale: .log10).figure()))
            // One model (an imported file) has no second seed to compare with.
            if variant.models.count > 1 {
                let second = variant.models[1]
                let realA = InterferenceAnalysis.realWeights(deltaLoss: first.deltaLoss, epsilon: eps)
                let realB = InterferenceAnalysis.realWeights(deltaLoss: second.deltaLoss, epsilon: eps)
                let kinds = zip(realA, realB).map { a, b in a && b ? "real in both" : (a || b ? "real in one" : "interference in both") }
                out.append(ReportFigure(
                    name: "seeds-\(variant.name)", heading: "Seed \(first.seed) against seed \(second.seed): \(variant.name)",
                    description: "Each virtual weight U_ij of one seed against the same weight of the other. The note: real weights agree and are positive; interference weights are independent across seeds (undertrained), and become structured when converged while real weights agree perfectly. Measured: \(supportName) correlation \(fmt(variant.diagonalCorrelation)), the rest \(fmt(variant.offDiagonalCorrelation))" + (variant.realCorrelation.map { "; weights real in both seeds \(fmt($0)), interference in both \(fmt(variant.interferenceCorrelation ?? 0))" } ?? "") + ".",
                    caption: "Real: ΔL > ε = \(eps) (Definition 2). metrics.json: variants[].diagonalCorrelation, offDiagonalCorrelation",
                    figure: ScatterPlot(title: "U_ij, \(title)", x: first.virtualWeights, y: second.virtualWeights,
                                        xLabel: "seed \(first.seed) U_ij", yLabel: "seed \(second.seed) U_ij",
                                        color: .categories(kinds, title: "weight"), showsDiagonal: true, markerRadius: 1.6).figure()))
            }
            let pr = first.curves.map { LineSeries(name: $0.score, x: $0.recall, y: $0.precision, isDashed: $0.score == WeightScores.Kind.oracle.rawValue) }
            out.append(ReportFigure(
                name: "precision-recall-\(variant.name)", heading: "Precision and recall of the heuristics: \(variant.name)",
                description: "Keeping the top k weights by each score (|U_ij|, ERA, TWERA, frequency, the oracle ΔL, and where computed the learned mask's logits and −IG, the integrated-gradients loss attribution), precision and recall against the real weights of Definition 2 (ΔL > ε), seed \(first.seed). Base rate of real weights: \(fmt(first.realBaseRate * 100)) %. Average precision: " + first.curves.map { "\($0.score) \(fmt($0.averagePrecision))" }.joined(separator: ", ") + "." + (first.unstableTWERARows.isEmpty ? "" : " TWERA is unstable on \(first.unstableTWERARows.count) output rows that rarely fire (listed in metrics.json: unstableTWERARows)."),
                caption: "metrics.json: variants[].models[].curves[] (recall, precision)",
                figure: LinePlot(title: "Precision-recall, \(title), seed \(first.seed)", xLabel: "recall", yLabel: "precision", series: pr).figure()))
            let gain = first.curves.map { LineSeries(name: $0.score, x: $0.lossGain, y: $0.precision, isDashed: $0.score == WeightScores.Kind.oracle.rawValue) }
            out.append(ReportFigure(
                name: "precision-gain-\(variant.name)", heading: "Precision against loss gain: \(variant.name)",
                description: "The same rankings, with the loss gain Σ ΔL over the kept weights on the x axis: keeping all weights gives the original model's total, and the oracle (ranking by ΔL itself) is the ceiling. Interference weights with ΔL < 0 lower the gain when kept.",
                caption: "metrics.json: variants[].models[].curves[] (lossGain, precision)",
                figure: LinePlot(title: "Precision vs loss gain, \(title), seed \(first.seed)", xLabel: "loss gain Σ ΔL of kept weights",
                                 yLabel: "precision", series: gain).figure()))
        }
        return out + [thresholdFigure()] + circuitFigures()
    }

    public func page(figures: [ReportFigure]) -> ReportPage {
        var page = ReportPage(title: "Interference weights: \(config.name)",
                              subtitle: modelDescription)
        page.add(.section("Setup"))
        page.add(.keyValues([
            ("features n", "\(config.features)"), ("hidden m", "\(config.hidden)"), ("feature density", "\(config.featureProbability)"),
            ("importance", config.importanceRatio.map { "\(config.importance) · \($0)^i" } ?? "\(config.importance)"), ("seeds", config.seeds.map(String.init).joined(separator: ", ")),
            ("variants", config.variants.map { "\($0.name): \($0.steps) steps" }.joined(separator: "; ")),
            ("batch / lr / weight decay", "\(config.training.batchSize) / \(config.training.learningRate) / \(config.training.weightDecay)"),
            ("evaluation samples", "\(config.evaluationSamples) (seed \(config.evaluationSeed))"),
            ("ε (Definition 2)", "\(config.epsilon)"), ("ΔL scale", config.reduction.rawValue),
        ] + circuitSetup))
        page.add(.subheading("Settings the note leaves unstated"))
        for note in config.notes { page.add(.note(note)) }
        page.add(.section("Summary"))
        var rows: [[String]] = []
        for v in metrics.variants {
            for m in v.models {
                rows.append([v.name, String(m.seed), fmt(Double(m.evaluationLoss), significantDigits: 4), String(m.realCount),
                             fmt(m.realBaseRate * 100) + " %", "\(m.realDiagonalCount)/\(supportSize)", String(m.realOffDiagonalCount),
                             fmt(m.minimumDiagonalDeltaLoss), fmt(m.maximumOffDiagonalDeltaLoss), String(m.harmfulCount),
                             fmt(m.meanDiagonalShrinkage), fmt(m.offDiagonalRMS), String(format: "%.3f s", m.deltaLossSeconds)])
            }
        }
        page.add(.table(headers: ["variant", "seed", "training loss", "real weights", "base rate", "real \(supportName)", "real outside",
                                  "min diagonal ΔL", "max off-diagonal ΔL", "harmful (ΔL<0)", "mean 1 − U_ii", "off-diagonal RMS", "exact ΔL time"],
                        rows: rows, caption: "Definition 2: real iff ΔL > ε. Definition 1 (observed − identity): mean shrinkage 1 − U_ii and the RMS of the off-diagonal (interference) weights. metrics.json: variants[].models[]"))
        page.add(.table(headers: ["variant", "steps", "diagonal correlation", "off-diagonal correlation", "all-weights correlation",
                                  "diagonal mean ± sd (seeds)", "RMS diagonal difference", "training time"],
                        rows: metrics.variants.map { v in
                            [v.name, String(v.steps), fmt(v.diagonalCorrelation), fmt(v.offDiagonalCorrelation), fmt(v.allWeightsCorrelation),
                             v.models.map { "\(fmt($0.diagonalMean)) ± \(fmt($0.diagonalStandardDeviation))" }.joined(separator: ", "),
                             fmt(v.diagonalRMSDifference), String(format: "%.1f s", v.trainingSeconds)]
                        },
                        caption: "Pearson correlation between the first two seeds' virtual weights. " + (config.importanceRatio == nil
                            ? "With equal importance and density every feature is exchangeable, so the diagonal weights of one seed sit in a narrow band and their spread is seed-specific noise: a low diagonal correlation here does not mean the real weights disagree (compare the RMS difference with the mean). "
                            : "The importance decay orders the features, so the diagonal weights spread the same way in every seed and their correlation measures agreement. ") + "metrics.json: variants[]"))
        page.add(contentsOf: circuitBlocks())
        page.add(contentsOf: learnedScoreBlocks())
        for item in figures { page.addSection(for: item) }
        return page
    }
}
