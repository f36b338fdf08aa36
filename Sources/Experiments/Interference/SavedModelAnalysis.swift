import Analysis
import Foundation
import TensorCore
import ToyModels

/// The models of a saved safetensors file, lifted for analysis (`superpose interference --model`).
///
/// Recognised tensor names (Float32 or any dtype safetensors allows):
/// - a TMS run: `W: [instance, m, n]`, optional `b_final: [instance, n]`; U = WᵀW per instance;
/// - an interference run: `W.<variant>: [seed, m, n]`, `b_final.<variant>: [seed, n]`;
/// - an untied model: `W_down: [m, n]`, `W_up: [n, m]`, optional `b: [n]` (or each with a leading
///   model axis), and optionally the circuit `A: [n, n]` (row i = output i) and `v: [n]`; with A the
///   targets are ReLU(A x + v) and A is Definition 1's ideal, without it the targets are x;
/// - an I2 run: `W_down.<variant>`, `W_up.<variant>`, `b.<variant>` as above with `A`, `v`.
public struct SavedModels: Sendable {
    public struct Group: Sendable {
        public var name: String
        public var models: [LiftedModel]
    }

    public var groups: [Group]
    public var featureCount: Int
    public var hiddenCount: Int
    /// The circuit's A and v when the file has them.
    public var circuit: BlockCircuit?

    public init(contentsOf url: URL) throws {
        let tensors = try SafeTensors.read(from: url).tensors
        let name = url.lastPathComponent
        func fail(_ message: String) -> ExperimentError { ExperimentError("\(name): \(message)") }
        /// `[k, rows, columns]` of a 2-D or 3-D tensor.
        func models(_ tensor: Tensor, _ label: String, rows: Int?, columns: Int?) throws -> [[Float]] {
            let t = tensor.rank == 2 ? tensor.reshaped([1] + tensor.shape) : tensor
            guard t.rank == 3, t.shape.allSatisfy({ $0 > 0 }),
                  rows.map({ t.shape[1] == $0 }) ?? true, columns.map({ t.shape[2] == $0 }) ?? true else {
                throw fail("'\(label)' must be [\(rows.map(String.init) ?? "rows"), \(columns.map(String.init) ?? "columns")] or [model, …] with positive extents, got \(tensor.shape)")
            }
            return (0..<t.shape[0]).map { t.slice($0).scalars }
        }
        func biases(_ tensor: Tensor?, _ label: String, count: Int, n: Int) throws -> [[Float]] {
            guard let tensor else { return Array(repeating: Array(repeating: 0, count: n), count: count) }
            let t = tensor.rank == 1 ? tensor.reshaped([1] + tensor.shape) : tensor
            guard t.rank == 2, t.shape == [count, n] else { throw fail("'\(label)' must be [\(n)] or [\(count), \(n)], got \(tensor.shape)") }
            return (0..<count).map { t.slice($0).scalars }
        }
        func tied(_ w: Tensor, _ b: Tensor?, label: String, biasLabel: String) throws -> (models: [LiftedModel], m: Int, n: Int) {
            guard w.rank == 3, w.shape.allSatisfy({ $0 > 0 }) else { throw fail("'\(label)' must be [instance, m, n] with positive extents, got \(w.shape)") }
            let (k, m, n) = (w.shape[0], w.shape[1], w.shape[2])
            try Self.checkSize(n, fail)
            let bias = try biases(b, biasLabel, count: k, n: n)
            let toy = ToyModel(kind: .reluOutput, weights: w, bias: Tensor(shape: [k, n], scalars: bias.flatMap { $0 }))
            return ((0..<k).map { LiftedModel(tied: toy, instance: $0) }, m, n)
        }
        func untied(_ down: Tensor, _ up: Tensor, _ b: Tensor?, suffix: String) throws -> (models: [LiftedModel], m: Int, n: Int) {
            let downs = try models(down, "W_down\(suffix)", rows: nil, columns: nil)
            let m = down.shape[down.rank - 2], n = down.shape[down.rank - 1]
            try Self.checkSize(n, fail)
            let ups = try models(up, "W_up\(suffix)", rows: n, columns: m)
            guard ups.count == downs.count else { throw fail("'W_up\(suffix)' has \(ups.count) models, 'W_down\(suffix)' \(downs.count)") }
            let bias = try biases(b, "b\(suffix)", count: downs.count, n: n)
            let lifted = zip(zip(ups, downs), bias).map { pair, b in
                LiftedModel(virtualWeights: Tensor.matmul(Tensor(shape: [n, m], scalars: pair.0), Tensor(shape: [m, n], scalars: pair.1)).scalars, bias: b)
            }
            return (lifted, m, n)
        }

        var groups: [Group] = []
        var sizes: (m: Int, n: Int)?
        func add(_ name: String, _ result: (models: [LiftedModel], m: Int, n: Int)) throws {
            if let sizes, sizes != (result.m, result.n) { throw fail("models of different sizes: m = \(sizes.m), n = \(sizes.n) and m = \(result.m), n = \(result.n)") }
            sizes = (result.m, result.n)
            groups.append(Group(name: name, models: result.models))
        }
        func variants(_ prefix: String) -> [String] {
            tensors.keys.filter { $0.hasPrefix(prefix + ".") }.map { String($0.dropFirst(prefix.count + 1)) }.sorted()
        }
        if let w = tensors["W"] {
            try add("model", tied(w, tensors["b_final"], label: "W", biasLabel: "b_final"))
        } else if !variants("W").isEmpty {
            for v in variants("W") { try add(v, tied(tensors["W.\(v)"]!, tensors["b_final.\(v)"], label: "W.\(v)", biasLabel: "b_final.\(v)")) }
        } else if let down = tensors["W_down"] {
            guard let up = tensors["W_up"] else { throw fail("has 'W_down' but no 'W_up' ([n, m])") }
            try add("model", untied(down, up, tensors["b"], suffix: ""))
        } else if !variants("W_down").isEmpty {
            for v in variants("W_down") {
                guard let up = tensors["W_up.\(v)"] else { throw fail("has 'W_down.\(v)' but no 'W_up.\(v)'") }
                try add(v, untied(tensors["W_down.\(v)"]!, up, tensors["b.\(v)"], suffix: ".\(v)"))
            }
        } else {
            throw fail("no model tensors: expected W [instance, m, n] (TMS), W.<variant> (interference run), W_down and W_up (untied) or W_down.<variant> (I2 run); found \(tensors.keys.sorted())")
        }
        let (m, n) = sizes!
        featureCount = n
        hiddenCount = m
        self.groups = groups
        if let a = tensors["A"] {
            guard a.shape == [n, n] else { throw fail("'A' must be [n, n] = [\(n), \(n)], got \(a.shape)") }
            let v = tensors["v"] ?? Tensor(zeros: [n])
            guard v.shape == [n] else { throw fail("'v' must be [n] = [\(n)], got \(v.shape)") }
            guard (a.scalars + v.scalars).allSatisfy(\.isFinite) else { throw fail("'A' and 'v' must be finite") }
            circuit = BlockCircuit(matrix: a.scalars, bias: v.scalars)
        } else {
            circuit = nil
        }
        for group in groups {
            for model in group.models where !(model.virtualWeights + model.bias).allSatisfy(\.isFinite) {
                throw fail("'\(group.name)' has non-finite weights")
            }
        }
    }

    static func checkSize(_ n: Int, _ fail: (String) -> ExperimentError) throws {
        if n < 2 || n > 2048 { throw fail("n (features) must be in 2...2048 to analyse, got \(n)") }
    }
}

extension InterferenceExperiment {
    /// Analyses the models of `config.model` (no training): one variant per group of the file, one
    /// entry per model in it (its index as the seed).
    static func analyseSaved(_ config: InterferenceConfig, path: String)
        throws -> (tensors: [String: Tensor], layout: String, metrics: InterferenceMetrics) {
        let url = URL(fileURLWithPath: path)
        let saved = try SavedModels(contentsOf: url)
        var config = config
        config.features = saved.featureCount
        config.hidden = saved.hiddenCount
        let n = saved.featureCount
        let evaluation = evaluationSet(config)
        let targets = saved.circuit?.targets(evaluation)
        let ideal = saved.circuit?.matrix ?? InterferenceAnalysis.identity(n)
        let variants = saved.groups.map { group -> InterferenceMetrics.Variant in
            let measured = group.models.enumerated().map { index, model in
                var lifted = model
                lifted.importance = config.importanceVector()
                return analyse(lifted, targets: targets, ideal: ideal, seed: UInt64(index), evaluationLoss: Float(lifted.loss(evaluation, targets: targets)),
                               evaluation: evaluation, config: config)
            }
            let variant = InterferenceConfig.Variant(name: group.name, steps: 0)
            guard measured.count > 1 else {
                return .init(name: group.name, steps: 0, models: measured, diagonalCorrelation: 0, offDiagonalCorrelation: 0,
                             allWeightsCorrelation: 0, diagonalRMSDifference: 0, trainingSeconds: 0)
            }
            return compare(variant, models: measured, ideal: ideal, epsilon: config.epsilon, trainingSeconds: 0)
        }
        var metrics = InterferenceMetrics(experiment: config.name, features: n, hidden: saved.hiddenCount,
                                          featureProbability: config.featureProbability, epsilon: config.epsilon,
                                          reduction: config.reduction, evaluationSamples: config.evaluationSamples, variants: variants)
        if let circuit = saved.circuit, let targets { metrics.recordCircuit(circuit, evaluation: evaluation, targets: targets) }
        let file = try SafeTensors.read(from: url)
        return (file.tensors, file.metadata["layout"] ?? "as read from \(url.lastPathComponent)", metrics)
    }
}
