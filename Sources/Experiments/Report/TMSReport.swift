import Analysis
import Figures
import Foundation
import TensorCore
import ToyModels

/// The report of a Toy Models of Superposition run: `figures/*.svg` and one self-contained
/// `report.html`, built from the run's config, metrics and trained model.
///
/// ```swift
/// let folder = RunFolder(url: URL(fileURLWithPath: "runs/T1-20261121-101500"))
/// let page = try TMSReport(contentsOf: folder).write(to: folder)   // figures/*.svg, then report.html
/// ```
///
/// Every number a figure or table shows is in metrics.json, except the entries of WᵀW and the
/// arrow coordinates (columns of W), which come from model.safetensors.
public struct TMSReport: RunReport, Sendable {
    public var config: TMSConfig
    public var metrics: TMSMetrics
    /// W: `[instance, m, n]`, b: `[instance, n]`.
    public var model: ToyModel
    /// The folder the report was read from, if any.
    public var folder: RunFolder?
    /// Whether `metrics` lacked the feature-geometry summary (older metrics.json) and it was
    /// computed from the model; `write(to:)` then rewrites metrics.json so it holds every number shown.
    public private(set) var completedMetrics = false

    /// A report of `model`, trained with `config`, whose numbers are `metrics`.
    /// - Throws: a one-line `ExperimentError` when the three disagree on n, m or the instance count.
    public init(config: TMSConfig, metrics: TMSMetrics, model: ToyModel) throws {
        let expected = [config.instances, config.hidden, config.features]
        guard model.weights.shape == expected else {
            throw ExperimentError("model.safetensors holds W of shape \(model.weights.shape) but config.json describes [instance, m, n] = \(expected)")
        }
        guard metrics.instances.count == config.instances, metrics.features == config.features, metrics.hidden == config.hidden else {
            throw ExperimentError("metrics.json describes \(metrics.instances.count) instances of n = \(metrics.features), m = \(metrics.hidden) but config.json has \(config.instances) of n = \(config.features), m = \(config.hidden)")
        }
        guard metrics.instances.allSatisfy({ $0.geometry.featureNorms.count == config.features }) else {
            throw ExperimentError("metrics.json: every instance's geometry must list n = \(config.features) features")
        }
        self.config = config
        self.metrics = metrics
        self.model = model
        if metrics.instances.contains(where: { $0.featureGeometry == nil }) {
            let shapes = FeatureGeometry.perInstance(model, metrics: metrics.instances.map(\.geometry))
            for index in self.metrics.instances.indices where self.metrics.instances[index].featureGeometry == nil {
                self.metrics.instances[index].featureGeometry = shapes[index]
            }
            completedMetrics = true
        }
    }

    /// Reads config.json, metrics.json and model.safetensors from a run folder.
    /// - Throws: one line naming the missing folder or the missing or malformed file.
    public init(contentsOf folder: RunFolder) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.url.path, isDirectory: &isDirectory) else {
            throw ExperimentError("\(folder.url.path): no such run folder")
        }
        guard isDirectory.boolValue else {
            throw ExperimentError("\(folder.url.path) is a file; give a run folder holding config.json, metrics.json and model.safetensors")
        }
        let config = try JSONCoding.decode(TMSConfig.self, from: folder.configURL)
        let metrics = try JSONCoding.decode(TMSMetrics.self, from: folder.metricsURL)
        guard FileManager.default.fileExists(atPath: folder.modelURL.path) else {
            throw ExperimentError("\(folder.modelURL.path): cannot read the file (no such file)")
        }
        let model = try ToyModelCheckpoint.load(from: folder.modelURL)
        try self.init(config: config, metrics: metrics, model: model)
        self.folder = folder
    }

    /// Writes `figures/<name>.svg` for every figure (and `.png` too when `includingPNG`), then
    /// `report.html`, each atomically; returns the report's URL.
    @discardableResult
    public func write(to folder: RunFolder, includingPNG: Bool = false) throws -> URL {
        if completedMetrics {
            try folder.writeJSON(metrics, to: folder.metricsURL)
        }
        let figures = self.figures()
        return try folder.writeReport(page(figures: figures), figures: figures, includingPNG: includingPNG)
    }
}
