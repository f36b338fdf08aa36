import Foundation
import TensorCore
import ToyModels

/// What each neuron of a trained absolute-value model does, and where the asymmetric
/// superposition motif appears.
public enum AbsoluteValueAnalysis {
    /// A feature counts as read by a neuron when |W1[k, i]| ≥ `readFraction` · max_j |W1[k, j]|
    /// and |W1[k, i]| ≥ `readFloor`.
    public static let readFraction: Float = 0.2
    public static let readFloor: Float = 0.05
    /// The motif's input weights must differ by at least this factor to count as asymmetric.
    public static let asymmetryRatio: Float = 1.5

    /// One neuron: its input weights (row of W1) and output weights (column of W2).
    public struct Neuron: Codable, Equatable, Sendable {
        public enum Kind: String, Codable, Sendable { case dead, monosemantic, polysemantic }
        public var index: Int
        public var kind: Kind
        /// W1[k, :] (length n).
        public var inputWeights: [Float]
        /// W2[:, k] (length n).
        public var outputWeights: [Float]
        /// Features read, strongest first.
        public var features: [Int]
        /// The strongest feature, and the sign of its input weight (+1 fires for x > 0, −1 for x < 0).
        public var dominantFeature: Int
        public var dominantSign: Int
    }

    /// The asymmetric superposition motif: a neuron reading a strong and a weak feature with opposite
    /// signs, whose output weight to the weak feature is larger than to the strong one (compensating
    /// its smaller input weight).
    public struct Motif: Codable, Equatable, Sendable {
        public var neuron: Int
        public var strongFeature: Int
        public var weakFeature: Int
        public var strongInputWeight: Float
        public var weakInputWeight: Float
        public var strongOutputWeight: Float
        public var weakOutputWeight: Float
        /// |W1 strong| / |W1 weak|.
        public var inputRatio: Float
        /// W2 weak / W2 strong.
        public var outputRatio: Float
    }

    public struct Summary: Codable, Equatable, Sendable {
        public var neurons: [Neuron]
        public var monosemanticNeurons: Int
        public var polysemanticNeurons: Int
        public var deadNeurons: Int
        /// Features read by at least one live neuron with a positive output weight back to that feature.
        public var representedFeatures: [Int]
        public var motifs: [Motif]
    }

    /// Analyses one instance of `model`.
    public static func analyse(_ model: AbsoluteValueModel, instance: Int) -> Summary {
        let (m, n) = (model.neuronCount, model.featureCount)
        let w1 = Array(model.inputWeights.scalars[instance * m * n ..< (instance + 1) * m * n])
        let w2 = Array(model.outputWeights.scalars[instance * m * n ..< (instance + 1) * m * n])
        var neurons: [Neuron] = []
        var represented = Set<Int>()
        var motifs: [Motif] = []
        for k in 0..<m {
            let input = (0..<n).map { w1[k * n + $0] }
            let output = (0..<n).map { w2[$0 * m + k] }
            let largest = input.map(abs).max() ?? 0
            let read = (0..<n).filter { abs(input[$0]) >= max(readFraction * largest, readFloor) }
                .sorted { abs(input[$0]) > abs(input[$1]) }
            let live = !read.isEmpty && (output.max() ?? 0) > readFloor
            let dominant = (0..<n).max { abs(input[$0]) < abs(input[$1]) } ?? 0
            let kind: Neuron.Kind = !live ? .dead : (read.count == 1 ? .monosemantic : .polysemantic)
            if live { for i in read where output[i] > readFloor { represented.insert(i) } }
            neurons.append(Neuron(index: k, kind: kind, inputWeights: input, outputWeights: output, features: read,
                                  dominantFeature: dominant, dominantSign: input[dominant] >= 0 ? 1 : -1))
            guard live, read.count >= 2 else { continue }
            for (a, i) in read.enumerated() {
                for j in read[(a + 1)...] where input[i] * input[j] < 0 {
                    let ratio = abs(input[i]) / abs(input[j])
                    guard ratio >= asymmetryRatio, output[i] > readFloor, output[j] > output[i] else { continue }
                    motifs.append(Motif(neuron: k, strongFeature: i, weakFeature: j,
                                        strongInputWeight: input[i], weakInputWeight: input[j],
                                        strongOutputWeight: output[i], weakOutputWeight: output[j],
                                        inputRatio: ratio, outputRatio: output[j] / output[i]))
                }
            }
        }
        return Summary(neurons: neurons,
                       monosemanticNeurons: neurons.filter { $0.kind == .monosemantic }.count,
                       polysemanticNeurons: neurons.filter { $0.kind == .polysemantic }.count,
                       deadNeurons: neurons.filter { $0.kind == .dead }.count,
                       representedFeatures: represented.sorted(), motifs: motifs)
    }

    /// Neuron order for figures: by dominant feature, then positive before negative, then by strength.
    public static func sortedNeurons(_ summary: Summary) -> [Int] {
        summary.neurons.sorted { a, b in
            if (a.kind == .dead) != (b.kind == .dead) { return b.kind == .dead }
            if a.dominantFeature != b.dominantFeature { return a.dominantFeature < b.dominantFeature }
            if a.dominantSign != b.dominantSign { return a.dominantSign > b.dominantSign }
            return a.index < b.index
        }.map(\.index)
    }
}

/// Everything a run measures; written as metrics.json.
public struct AbsoluteValueMetrics: Codable, Equatable, Sendable {
    public struct Instance: Codable, Equatable, Sendable {
        public var index: Int
        public var featureProbability: Float
        public var evaluationLoss: Float
        public var finalTrainingLoss: Float
        public var monosemanticNeurons: Int
        public var polysemanticNeurons: Int
        public var deadNeurons: Int
        public var representedFeatureCount: Int
        public var representedFeatures: [Int]
        public var motifCount: Int
        public var motifs: [AbsoluteValueAnalysis.Motif]
        public var neurons: [AbsoluteValueAnalysis.Neuron]
    }
    public struct Timing: Codable, Equatable, Sendable {
        public var trainingSeconds: Double
        public var stepsPerSecond: Double
    }
    public var experiment: String
    public var features: Int
    public var neurons: Int
    public var importance: [Float]
    public var instances: [Instance]
    public var lossHistory: TrainingHistory
    public var timing: Timing
    /// The thresholds used to classify neurons and find motifs.
    public var criteria: [String: Float]
}
