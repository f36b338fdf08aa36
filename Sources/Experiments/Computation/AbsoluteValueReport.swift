import Foundation
import Figures
import TensorCore
import ToyModels

/// The figures and report.html of an absolute-value run.
func fmt(_ value: Double, significantDigits: Int = 3) -> String {
    String(format: "%.\(significantDigits)g", value)
}

public struct AbsoluteValueReport: RunReport, Sendable {
    public var config: AbsoluteValueConfig
    public var metrics: AbsoluteValueMetrics
    public var model: AbsoluteValueModel

    public init(config: AbsoluteValueConfig, metrics: AbsoluteValueMetrics, model: AbsoluteValueModel) {
        self.config = config
        self.metrics = metrics
        self.model = model
    }

    func probabilityLabel(_ i: Int) -> String { "p=" + fmt(Double(metrics.instances[i].featureProbability), significantDigits: 2) }

    /// Features shown in the weight heatmaps: up to the last one any neuron reads (at least 4, at most n).
    var shownFeatures: Int {
        let last = metrics.instances.flatMap { $0.neurons.flatMap(\.features) }.max() ?? 0
        return min(config.features, max(4, last + 1))
    }

    public func figures() -> [ReportFigure] {
        let count = metrics.instances.count
        var out: [ReportFigure] = []
        let labels = (0..<count).map(probabilityLabel)
        out.append(ReportFigure(
            name: "loss", heading: "Loss per instance",
            description: "Importance-weighted squared error against |x| on fresh batches after training, one bar per instance (feature probability p). Sparser inputs have fewer active features, so the loss falls with p.",
            caption: "metrics.json: instances[].evaluationLoss",
            figure: BarChart(title: "Evaluation loss", labels: labels, values: metrics.instances.map(\.evaluationLoss),
                             categoryLabel: "instance (feature probability)", valueLabel: "loss").figure()))

        var countLabels: [String] = [], countValues: [Double] = [], kinds: [String] = []
        for (i, instance) in metrics.instances.enumerated() {
            for (kind, value) in [("monosemantic", instance.monosemanticNeurons), ("polysemantic", instance.polysemanticNeurons), ("dead", instance.deadNeurons)] {
                countLabels.append(kind == "polysemantic" ? labels[i] : (kind == "monosemantic" ? " " + String(repeating: " ", count: i) : "  " + String(repeating: " ", count: i)))
                countValues.append(Double(value)); kinds.append(kind)
            }
        }
        out.append(ReportFigure(
            name: "neuron-kinds", heading: "Monosemantic and polysemantic neurons",
            description: "For each instance, how many neurons read one feature (monosemantic), several (polysemantic), or none (dead). The paper: dense features give monosemantic neurons for the most important features (two per feature, one for x > 0 and one for x < 0); as features get sparser, neurons become polysemantic and represent more features than there are neurons.",
            caption: "A neuron reads feature i when |W1[k,i]| ≥ \(AbsoluteValueAnalysis.readFraction) · max_j |W1[k,j]| and ≥ \(AbsoluteValueAnalysis.readFloor). metrics.json: instances[].monosemanticNeurons, polysemanticNeurons, deadNeurons",
            figure: BarChart(title: "Neurons by kind, per instance", labels: countLabels, values: countValues,
                             categoryLabel: "instance (feature probability)", valueLabel: "neurons",
                             color: .categories(kinds, title: "neuron")).figure(width: max(560, 30 * Double(countValues.count)))))

        let represented = metrics.instances.map { Double($0.representedFeatureCount) }
        out.append(ReportFigure(
            name: "features-represented", heading: "Features represented",
            description: "Features read by some live neuron that writes back to that feature's output. Above the dashed line (m/2, the most a model can compute monosemantically with two neurons per feature) the model computes |x| in superposition.",
            caption: "metrics.json: instances[].representedFeatureCount",
            figure: BarChart(title: "Features represented (m = \(config.neurons))", labels: labels, values: represented,
                             categoryLabel: "instance (feature probability)", valueLabel: "features",
                             referenceLines: [ReferenceLine(.horizontal, at: Double(config.neurons) / 2, label: "m/2")]).figure()))

        let bars: [any Chart] = metrics.instances.enumerated().map { i, instance in
            let summary = summaryOf(instance)
            let order = AbsoluteValueAnalysis.sortedNeurons(summary)
            return NeuronFeatureBars(
                title: "\(labels[i])  (\(instance.monosemanticNeurons) mono, \(instance.polysemanticNeurons) poly)",
                labels: order.map { "n\($0)" },
                segments: order.map { k in instance.neurons[k].features.map { (feature: $0, weight: Double(instance.neurons[k].inputWeights[$0])) } },
                featureCount: config.features)
        }
        let barHeight = max(200, 60 + 13 * Double(config.neurons))
        out.append(ReportFigure(
            name: "features-per-neuron", heading: "Features per neuron",
            description: "Each neuron as a bar stacked from the input weights of the features it reads: positive weights to the right (the neuron fires for x_i > 0), negative to the left, colour and number giving the feature. One segment is a monosemantic neuron; a bar with a long segment on one side and a short one on the other is the asymmetric superposition motif.",
            caption: "Neurons sorted by their strongest feature. metrics.json: instances[].neurons[].inputWeights, features",
            figure: SmallMultiples(title: "Input weights of each neuron, by feature", panels: bars, columns: min(count, count > 4 ? 3 : count),
                                   panelSize: Size(width: 330, height: min(barHeight, 620))).figure()))

        let columns = shownFeatures
        let w1Panels: [any Chart] = metrics.instances.enumerated().map { i, instance in
            let order = AbsoluteValueAnalysis.sortedNeurons(summaryOf(instance))
            return Heatmap(title: labels[i], values: order.map { Array(instance.neurons[$0].inputWeights.prefix(columns)) },
                           rowLabels: order.map { "n\($0)" }, columnLabels: (0..<columns).map(String.init),
                           xLabel: "feature", yLabel: "neuron", colorLabel: "W1", scale: .diverging())
        }
        let w2Panels: [any Chart] = metrics.instances.enumerated().map { i, instance in
            let order = AbsoluteValueAnalysis.sortedNeurons(summaryOf(instance))
            return Heatmap(title: labels[i], values: order.map { Array(instance.neurons[$0].outputWeights.prefix(columns)) },
                           rowLabels: order.map { "n\($0)" }, columnLabels: (0..<columns).map(String.init),
                           xLabel: "output feature", yLabel: "neuron", colorLabel: "W2ᵀ", scale: .diverging())
        }
        let heat = Size(width: 330, height: min(560, max(230, 90 + 11 * Double(config.neurons))))
        out.append(ReportFigure(
            name: "input-weights", heading: "Input weights W1",
            description: "W1 per instance, one row per neuron (sorted by strongest feature), one column per feature (features 0 to \(columns - 1), most important first). Red: the neuron fires for positive x_i; blue: for negative x_i.",
            caption: "model.safetensors: W1 [instance, m, n]",
            figure: SmallMultiples(title: "W1 (neurons × features)", panels: w1Panels, columns: min(count, 3), panelSize: heat).figure()))
        out.append(ReportFigure(
            name: "output-weights", heading: "Output weights W2",
            description: "W2 transposed per instance, same neuron order: which outputs each neuron writes to. A monosemantic neuron writes to its own feature; a polysemantic one writes to each feature it reads, and the weaker-read feature of an asymmetric pair gets the larger output weight.",
            caption: "model.safetensors: W2 [instance, n, m], shown as W2ᵀ",
            figure: SmallMultiples(title: "W2ᵀ (neurons × output features)", panels: w2Panels, columns: min(count, 3), panelSize: heat).figure()))
        return out
    }

    func summaryOf(_ instance: AbsoluteValueMetrics.Instance) -> AbsoluteValueAnalysis.Summary {
        AbsoluteValueAnalysis.Summary(neurons: instance.neurons, monosemanticNeurons: instance.monosemanticNeurons,
                                      polysemanticNeurons: instance.polysemanticNeurons, deadNeurons: instance.deadNeurons,
                                      representedFeatures: instance.representedFeatures, motifs: instance.motifs)
    }

    public func page(figures: [ReportFigure]) -> ReportPage {
        var page = ReportPage(title: "Computation in superposition: \(config.name)",
                              subtitle: "h = ReLU(W1 x), y = ReLU(W2 h + b), target |x|; n = \(config.features) features, m = \(config.neurons) neurons, \(config.instances) instances")
        page.add(.section("Setup"))
        page.add(.keyValues([
            ("features n", "\(config.features)"), ("neurons m", "\(config.neurons)"), ("instances", "\(config.instances)"),
            ("importance", "\(config.importance)"), ("feature probability", "\(config.featureProbability)"),
            ("values", "\(config.featureValues)"), ("steps", "\(config.training.steps)"), ("batch", "\(config.training.batchSize)"),
            ("lr / weight decay", "\(config.training.learningRate) / \(config.training.weightDecay)"), ("seed", "\(config.training.seed)"),
            ("training time", String(format: "%.1f s", metrics.timing.trainingSeconds)),
        ]))
        for note in config.notes { page.add(.note(note)) }
        page.add(.section("Summary"))
        page.add(.table(headers: ["instance", "p", "loss", "monosemantic", "polysemantic", "dead", "features represented", "asymmetric motifs"],
                        rows: metrics.instances.map { i in
                            [String(i.index), fmt(Double(i.featureProbability), significantDigits: 3),
                             fmt(Double(i.evaluationLoss), significantDigits: 4),
                             String(i.monosemanticNeurons), String(i.polysemanticNeurons), String(i.deadNeurons),
                             String(i.representedFeatureCount), String(i.motifCount)]
                        }, caption: "metrics.json: instances[]"))
        let motifs = metrics.instances.flatMap { instance in instance.motifs.map { (instance, $0) } }
        page.add(.section("Asymmetric superposition"))
        page.add(.paragraph("A neuron that reads two features with opposite signs, one with an input weight at least \(AbsoluteValueAnalysis.asymmetryRatio)× the other, and writes to the weaker feature with a larger output weight than to the stronger one (compensating its weaker input)."))
        if motifs.isEmpty {
            page.add(.note("No neuron in this run matches the motif."))
        } else {
            page.add(.table(headers: ["instance", "p", "neuron", "strong feature", "weak feature", "W1 strong", "W1 weak", "W2 strong", "W2 weak"],
                            rows: motifs.map { instance, m in
                                [String(instance.index), fmt(Double(instance.featureProbability), significantDigits: 3),
                                 String(m.neuron), String(m.strongFeature), String(m.weakFeature)]
                                + [m.strongInputWeight, m.weakInputWeight, m.strongOutputWeight, m.weakOutputWeight].map { fmt(Double($0), significantDigits: 3) }
                            }, caption: "metrics.json: instances[].motifs"))
        }
        for item in figures { page.addSection(for: item) }
        return page
    }
}
