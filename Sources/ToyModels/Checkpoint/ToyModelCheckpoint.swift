import Foundation
import TensorCore

/// Saving and loading a `ToyModel` as safetensors, readable from Python:
///
///     from safetensors.numpy import load_file
///     W = load_file("model.safetensors")["W"]        # [instance, m, n]
///     b = load_file("model.safetensors")["b_final"]  # [instance, n]
///
/// Tensor names follow Anthropic's notebook (`W`, `b_final`); note its W is stored `[instance, n, m]`,
/// the transpose of ours. The model kind is in the metadata under "kind".
public enum ToyModelCheckpoint {
    public static let weightsName = "W"
    public static let biasName = "b_final"
    public static let format = "superposition.toy-model.v1"

    public static let layout = "W: [instance, m, n], b_final: [instance, n]"

    /// Writes the model atomically; an experiment that gives its instances a meaning names its own
    /// `format` and describes it in `layout` (both go to the file's metadata).
    public static func save(_ model: ToyModel, to url: URL, format: String = format, layout: String = layout) throws {
        try SafeTensors.write([weightsName: model.weights, biasName: model.bias],
                              metadata: ["format": format, "kind": model.kind.rawValue, "layout": layout], to: url)
    }

    /// Reads a model; throws a one-line error if the file is not a valid toy-model checkpoint.
    public static func load(from url: URL) throws -> ToyModel {
        let file = try SafeTensors.read(from: url)
        let name = url.lastPathComponent
        guard let weights = file.tensors[weightsName] else {
            throw IOError(.invalidHeader, path: name, "no tensor named '\(weightsName)' ([instance, m, n]); found \(file.tensors.keys.sorted())")
        }
        guard weights.rank == 3, weights.shape.allSatisfy({ $0 > 0 }) else {
            throw IOError(.invalidHeader, path: name, "'\(weightsName)' must be [instance, m, n] with positive extents, got \(weights.shape)")
        }
        let biasShape = [weights.shape[0], weights.shape[2]]
        let bias = file.tensors[biasName] ?? Tensor(zeros: biasShape)
        guard bias.shape == biasShape else {
            throw IOError(.invalidHeader, path: name, "'\(biasName)' must be [instance, n] = \(biasShape), got \(bias.shape)")
        }
        let kindName = file.metadata["kind"] ?? ToyModel.Kind.reluOutput.rawValue
        guard let kind = ToyModel.Kind(rawValue: kindName) else {
            throw IOError(.invalidHeader, path: name, "metadata kind '\(kindName)' is not one of \(ToyModel.Kind.allCases.map(\.rawValue))")
        }
        return ToyModel(kind: kind, weights: weights, bias: bias)
    }
}
