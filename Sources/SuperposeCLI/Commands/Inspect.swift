import Analysis
import ArgumentParser
import Experiments
import Foundation
import ToyModels

/// `superpose inspect MODEL`: the geometry of a saved toy model, without retraining.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the superposition geometry of a saved toy model (model.safetensors).")

    @Argument(help: "A toy-model safetensors file (W: [instance, m, n], optional b_final: [instance, n]).")
    var model: String
    @Flag(help: "Print metrics as JSON instead of a table.") var json = false

    func run() throws {
        let loaded = try ToyModelCheckpoint.load(from: URL(fileURLWithPath: model))
        let metrics = SuperpositionMetrics.perInstance(loaded)
        if json {
            FileHandle.standardOutput.write(try JSONCoding.encode(metrics) + Data("\n".utf8))
            return
        }
        print("\(model): \(loaded.kind.rawValue) model, \(loaded.instanceCount) instances, n=\(loaded.featureCount), m=\(loaded.hiddenCount)")
        let shapes = FeatureGeometry.perInstance(loaded, metrics: metrics)
        print("  instance  represented  dims/feature  mean D_i (represented)  geometry")
        for (index, instance) in metrics.enumerated() {
            let represented = zip(instance.featureNorms, instance.featureDimensionality)
                .filter { $0.0 > SuperpositionMetrics.representationThreshold }.map(\.1)
            let meanD = represented.isEmpty ? "-" : String(format: "%.3f", Double(represented.reduce(0, +)) / Double(represented.count))
            let dims = instance.dimensionsPerFeature.map { String(format: "%.3f", Double($0)) } ?? "-"
            print(String(format: "  %8d  %4d of %-4d  ", index, instance.representedFeatureCount, loaded.featureCount)
                  + dims.padded(to: 12) + "  " + meanD.padded(to: 22) + "  " + shapes[index].countSummary)
        }
    }
}
