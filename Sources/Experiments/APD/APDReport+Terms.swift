import Decomposition
import Figures

/// What the APD reports say about the loss: only the terms the settings train, so that a variant
/// without a sparse forward pass (L_p attributions) shows no top-k reconstruction curve of zeros.
extension APDReport {
    /// The terms a run with `settings` trains, in report order: name, short name, value, coefficient.
    static func trainedTerms(_ settings: APDSettings)
        -> [(name: String, short: String, value: KeyPath<APDLossTerms, Double>, coefficient: Double)] {
        var terms: [(name: String, short: String, value: KeyPath<APDLossTerms, Double>, coefficient: Double)] =
            [("param match", "param match", \.parameterMatch, settings.parameterMatchCoefficient)]
        switch settings.minimality {
        case .batchTopK:
            terms.append(("top-k reconstruction", "top-k recon", \.topKReconstruction, settings.topKReconstructionCoefficient))
            if settings.activationReconstructionCoefficient > 0 {
                terms.append(("activation reconstruction", "act recon", \.activationReconstruction, settings.activationReconstructionCoefficient))
            }
        case .lpAttributions:
            terms.append(("Lp sparsity", "Lp sparsity", \.lpSparsity, settings.lpSparsityCoefficient))
        }
        terms.append(("Schatten", "Schatten", \.schatten, settings.schattenCoefficient))
        return terms
    }

    /// One line series per trained term, from a report's `series(name, value)`.
    static func lossSeries(_ settings: APDSettings, _ series: (String, (APDLossTerms) -> Double) -> LineSeries) -> [LineSeries] {
        trainedTerms(settings).map { term in series(term.name) { $0[keyPath: term.value] } }
    }

    /// How components are selected, in words.
    static func minimality(_ settings: APDSettings) -> String {
        switch settings.minimality {
        case .batchTopK:
            return "batch top-k \(settings.topK) × batch = \(settings.keptPairs) pairs"
        case .lpAttributions:
            return "L_p penalty on the attributions (p = \(settings.lpSparsityP)), which also weighs each pair's Schatten term; no sparse forward pass (Appendix A.2.3)"
        }
    }

    /// For the L_p variant, a note that the run replaces batch top-k (which the residual presets' notes
    /// describe) and which terms it leaves out; nil for batch top-k.
    static func variantNote(_ settings: APDSettings) -> String? {
        guard settings.minimality == .lpAttributions else { return nil }
        return "This run uses the L_p attribution variant (Appendix A.2.3) in place of batch top-k: its loss is the parameter match, "
            + "Σ_c mean_b (Attr/n_out + ε)^(p/2) with p = \(settings.lpSparsityP) and coefficient \(settings.lpSparsityCoefficient), and the Schatten "
            + "penalty weighted per (sample, component) by that same term. There is no sparse forward pass, so no top-k or activation "
            + "reconstruction (the reference computes its residual-MLP activation reconstruction on the top-k pass only); "
            + "settings the notes give for those terms do not apply. Its coefficients are not tuned: the paper reports no L_p run, only that its early L_p explorations worked less well than top-k."
    }

    /// The trained terms' coefficients.
    static func coefficients(_ settings: APDSettings) -> String {
        trainedTerms(settings).map { "\($0.name) \($0.coefficient)" }.joined(separator: ", ") + " (Schatten p = \(settings.schattenP))"
    }

    /// The trained terms' values, before their coefficients.
    static func finalTerms(_ terms: APDLossTerms, _ settings: APDSettings) -> String {
        trainedTerms(settings).map { "\($0.short) \(ReportFormat.number(terms[keyPath: $0.value]))" }.joined(separator: ", ")
    }
}
