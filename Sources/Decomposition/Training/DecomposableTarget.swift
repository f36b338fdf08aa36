import TensorCore
import ToyModels

/// One decomposed weight matrix of a target: W ≈ Σ_c A_c B_c with A_c: `[inputs, rank]` and
/// B_c: `[rank, outputs]`, in the row-vector convention `post = pre · W` (W: `[inputs, outputs]`).
public struct DecomposedLayer: Codable, Equatable, Sendable {
    public var name: String
    public var inputs: Int
    public var outputs: Int
    public init(name: String, inputs: Int, outputs: Int) { self.name = name; self.inputs = inputs; self.outputs = outputs }
}

/// A model APD can decompose: its weight matrices, its input distribution, and a step that
/// computes the APD losses and their gradients for one instance.
public protocol DecomposableTarget: Sendable {
    var instanceCount: Int { get }
    /// The decomposed weight matrices (a tied matrix, like TMS's Wᵀ, is not listed twice).
    var layers: [DecomposedLayer] { get }
    /// Inputs per sample.
    var inputCount: Int { get }
    /// The data APD trains on (the target's training distribution) for `instance`, drawn from
    /// its own stream of `seed`.
    func makeInputSampler(instance: Int, seed: UInt64) -> any InputSampler
    /// The target's weight matrix `layer` of `instance`, `[inputs, outputs]` row-major.
    func targetWeight(layer: Int, instance: Int) -> [Float]
    /// A step for one instance, holding that instance's frozen target and its scratch space.
    func makeStep(instance: Int, settings: APDSettings) -> any DecompositionStep
}

/// Draws batches of one instance's inputs, deterministically.
public protocol InputSampler {
    /// Fills `x: [batchSize, inputs]` row-major.
    mutating func sample(batchSize: Int, into x: UnsafeMutablePointer<Float>)
}

/// Batches of a `FeatureDistribution` (sparse features), from stream 1,000,000 + instance of a seed.
public struct FeatureInputSampler: InputSampler {
    public let distribution: FeatureDistribution
    public let instance: Int
    var lanes: RandomLanes

    public init(distribution: FeatureDistribution, instance: Int, seed: UInt64) {
        self.distribution = distribution
        self.instance = instance
        lanes = RandomLanes(seed: seed, stream: 1_000_000 + UInt64(instance))
    }

    public mutating func sample(batchSize: Int, into x: UnsafeMutablePointer<Float>) {
        distribution.sample(instance: instance, batchSize: batchSize, lanes: &lanes, into: x)
    }
}

/// The APD losses and gradients of one instance on one batch.
public protocol DecompositionStep: AnyObject {
    /// - Parameters:
    ///   - input: `x: [batch, inputs]` row-major.
    ///   - parameters: this instance's components laid out by `ComponentLayout`.
    ///   - gradients: where to write the gradient of `total` (same layout; overwritten), divided by the
    ///     instance count where the objective averages over instances (TMS, as the reference).
    func lossAndGradients(input: UnsafePointer<Float>, parameters: UnsafePointer<Float>,
                          gradients: UnsafeMutablePointer<Float>) -> APDLossTerms
}

/// Where each layer's A and B sit in an instance's flat parameter vector: A_0, B_0, A_1, B_1, ...
/// with A_l: `[C, inputs, rank]` and B_l: `[C, rank, outputs]`, as the reference's tensors.
public struct ComponentLayout: Equatable, Sendable {
    public let layers: [DecomposedLayer]
    public let components: Int
    public let rank: Int
    public let aOffsets: [Int]
    public let bOffsets: [Int]
    /// Scalars per instance.
    public let count: Int

    public init(layers: [DecomposedLayer], components: Int, rank: Int) {
        self.layers = layers
        self.components = components
        self.rank = rank
        var offset = 0, a: [Int] = [], b: [Int] = []
        for layer in layers {
            a.append(offset); offset += components * layer.inputs * rank
            b.append(offset); offset += components * rank * layer.outputs
        }
        aOffsets = a
        bOffsets = b
        count = offset
    }

    /// Σ_c A_c B_c of `layer`: `[inputs, outputs]`.
    public func summedWeight(layer l: Int, parameters p: UnsafePointer<Float>) -> [Float] {
        let (dIn, dOut) = (layers[l].inputs, layers[l].outputs)
        var w = [Float](repeating: 0, count: dIn * dOut)
        for c in 0..<components { addComponentWeight(layer: l, component: c, parameters: p, into: &w) }
        return w
    }

    /// Adds A_c B_c of `layer` to `w: [inputs, outputs]`.
    public func addComponentWeight(layer l: Int, component c: Int, parameters p: UnsafePointer<Float>, into w: inout [Float]) {
        let (dIn, dOut, k) = (layers[l].inputs, layers[l].outputs, rank)
        let a = p + aOffsets[l] + c * dIn * k, b = p + bOffsets[l] + c * k * dOut
        for i in 0..<dIn {
            for r in 0..<k {
                let air = a[i * k + r]
                if air == 0 { continue }
                for j in 0..<dOut { w[i * dOut + j] += air * b[r * dOut + j] }
            }
        }
    }

    /// A_c B_c of `layer`: `[inputs, outputs]`.
    public func componentWeight(layer l: Int, component c: Int, parameters p: UnsafePointer<Float>) -> [Float] {
        var w = [Float](repeating: 0, count: layers[l].inputs * layers[l].outputs)
        addComponentWeight(layer: l, component: c, parameters: p, into: &w)
        return w
    }
}
