import Analysis
import Foundation
import TensorCore
import ToyModels

/// The untied toy model's circuit (the note's "more sophisticated toy model", I2): the target is
/// y = ReLU(A x + v) with A block diagonal, each block sparse with entries U[0, 1], and the model
/// h = W_down x, y' = ReLU(W_up h + b). Virtual weights U = W_up W_down; A is Definition 1's ideal.
public struct CircuitSettings: Codable, Equatable, Sendable {
    /// Diagonal blocks of A (n must be a multiple).
    public var blocks: Int
    /// Probability that an entry inside a block is nonzero (the note: 0.1; its text also says 0.5).
    public var blockDensity: Float
    /// v, the same for every output.
    public var bias: Float
    /// Seeds A (shared by every model of the run).
    public var seed: UInt64

    public init(blocks: Int = 8, blockDensity: Float = 0.1, bias: Float = -0.1, seed: UInt64 = 0) {
        self.blocks = blocks
        self.blockDensity = blockDensity
        self.bias = bias
        self.seed = seed
    }

    /// A one-line error for an invalid setting given n features, nil when valid.
    func problem(features: Int) -> String? {
        if blocks < 1 || features % blocks != 0 { return "circuit blocks must divide the \(features) features, got \(blocks)" }
        if !(blockDensity > 0 && blockDensity <= 1) { return "circuit block density must be in (0, 1], got \(blockDensity)" }
        if !bias.isFinite || abs(bias) > 100 { return "circuit bias v must be a finite number in [-100, 100], got \(bias)" }
        return nil
    }

    /// A with its entries, and v.
    public func circuit(features n: Int) -> BlockCircuit {
        var generator = RandomGenerator(seed: seed, stream: 4_000_000)
        return BlockCircuit(features: n, blocks: blocks, density: blockDensity, bias: bias, generator: &generator)
    }

    /// The I2 preset: 128 features in 16 dimensions, 8 blocks at density 0.1, v = −0.1, input density 0.3;
    /// W_down learned and frozen, two seeds each.
    static func i2Config() -> InterferenceConfig {
        var c = InterferenceConfig(name: "I2", features: 128, hidden: 16, featureProbability: 0.3)
        c.circuit = CircuitSettings()
        c.variants = [.init(name: "learned-down", steps: 5_000), .init(name: "frozen-down", steps: 5_000, frozenDown: true)]
        c.training.learningRate = 3e-3
        c.notes = [
            "Circuit as the note states: y = ReLU(A x + v), n = 128 features, A block diagonal with 8 blocks of 16 × 16, each entry kept with probability 0.1 and drawn from U[0, 1] (the note's text also mentions 0.5: set circuit.blockDensity or --block-density), v = −0.1; input density 0.3, values U[0, 1]; model h = W_down x in m = 16 dimensions, y' = ReLU(W_up h + b); U = W_up W_down.",
            "The note does not say whether W_down trains. Both are run: 'learned-down' trains W_down, W_up and b; 'frozen-down' freezes W_down as a random projection with unit-norm columns (one per seed) and trains W_up and b (a public replication found the note's overlap and shrinkage only with W_down frozen).",
            "The note does not state the optimiser settings. Chosen: AdamW, lr 3e-3, weight decay 0.01, constant rate, batch 1024, 5,000 steps, Xavier-normal initialisation, b = 0. Measured (seed 1, learned W_down): evaluation loss 0.0113 after 3,000 steps at lr 1e-3, 0.01127 after 10,000, 0.01141 after 5,000 at 3e-3: converged to within about 1 %.",
            "The note does not state the evaluation set or ΔL's scale. Chosen as for I1: 100,000 fresh samples shared by all models, ΔL per sample summed over the 128 outputs, ε = 1e-4, scored against the targets ReLU(A x + v).",
            "A is drawn from its own seed (circuit.seed = 0), the same for both model seeds: the note trains two models of the same circuit.",
            "Measured (seeds 1, 2): with W_down learned, 0.76 % of the weights are real in both seeds, against nnz(A)/n² = 1.21 % and 1.14 % real in the circuit itself (U = A, b = v: 12 of A's 199 entries are too small to matter). The learned W_down leaves out input features: 125 and 124 of A's entries are real, all the real weights lie on A's support, and |U| alone separates them (interference RMS 0.06–0.07; the replication: std about 0.09, base rate about 1.26 %). Its settings are not public. Nothing in training moves the rate: sparser inputs (density 0.1, 0.03) 0.78–0.82 %, no weight decay 0.76 / 0.75 %, lr 1e-2 0.78 %, 20,000 steps at lr 1e-3 0.74 / 0.75 %, W_down started at unit-norm columns 0.77 / 0.75 %. The threshold does (figure real-rate-threshold): the learned models' count has a plateau at 0.7–0.8 % from ε ≈ 3e-5 to 1e-3, so their real weights stand well apart from the rest but are fewer than the circuit's; at ε = 1e-5, on the plateau's shoulder, the rate is 1.31 / 1.34 % (152 and 149 of A's entries, 62 and 71 outside A; real r 0.90, interference r 0.10), near the replication's number, which may therefore come from a ΔL scale about 10× this one. With W_down frozen, 1.42 % and 1.25 % are real (163 of A's entries in each, 69 and 41 outside A) and the overlap and shrinkage of the note appear (slope of U on A 0.12); its count falls steeply through ε = 1e-4, so it moves with the data stream and the seed",
        ]
        return c
    }
}
