import Analysis
import Figures
import Foundation

extension InterferenceReport {
    /// ε from 10⁻⁸ to 10⁻¹, eight points a decade.
    static let thresholdGrid: [Double] = (0...56).map { pow(10, -8 + Double($0) / 8) }

    /// How many weights Definition 2 calls real as its threshold ε varies, every model of the run
    /// in one plot. The note's ε = 1e-4 is one point on a curve whose level depends on ΔL's scale,
    /// which the note leaves unstated; the curve shows how much the base rate hangs on that choice.
    func thresholdFigure() -> ReportFigure {
        let n = metrics.features
        let series = metrics.variants.flatMap { variant in
            variant.models.map { model in
                LineSeries(name: "\(variant.name), seed \(model.seed)", x: Self.thresholdGrid,
                           y: Self.thresholdGrid.map { eps in
                               100 * Double(InterferenceAnalysis.realWeights(deltaLoss: model.deltaLoss, epsilon: eps).filter { $0 }.count) / Double(n * n)
                           })
            }
        }
        let supportRate = 100 * (metrics.idealBaseRate ?? 1 / Double(n))
        // The circuit's own rate sits just below its support's: one line, both numbers, keeps the labels apart.
        let level = metrics.circuitRealBaseRate.map {
            ReferenceLine.horizontal(at: 100 * $0, label: "real in U = A: \(fmt(100 * $0)) % (nnz(A)/n² \(fmt(supportRate)) %)")
        } ?? .horizontal(at: supportRate, label: "\(supportName): \(fmt(supportRate)) %")
        let lines: [ReferenceLine] = [.vertical(at: metrics.epsilon, label: "ε = \(fmt(metrics.epsilon))"), level]
        return ReportFigure(
            name: "real-rate-threshold", heading: "Real weights against the threshold ε",
            description: "The share of the n² = \(n * n) virtual weights with ΔL > ε, for each model, as ε sweeps eight decades. The horizontal line is the share Definition 1 calls real (\(supportName)\(metrics.circuitRealBaseRate == nil ? "" : ", here the circuit's own weights with ΔL > ε")); a plateau means the real weights stand well apart from the rest, and where a model's curve crosses it shows the threshold at which the two definitions agree in number. ΔL here is per sample summed over the \(n) outputs (\(metrics.reduction.rawValue)): a ΔL in the training loss's units (mean over outputs) moves every curve right by a factor of \(n).",
            caption: "metrics.json: variants[].models[].deltaLoss, epsilon",
            figure: LinePlot(title: "Real weights (ΔL > ε) against ε, \(metrics.experiment)", xLabel: "ε", yLabel: "real weights (% of n²)",
                             series: series, xScale: .log10, yScale: .log10, referenceLines: lines).figure())
    }
}
