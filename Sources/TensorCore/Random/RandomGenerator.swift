import CKernels
import Foundation

/// A seeded, reproducible pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random draw in the package comes from one of these, created from the seed of a config,
/// so the same seed on the same build and machine gives bit-identical results. Independent
/// streams (one per model instance, say) come from `init(seed:stream:)`, which lets work be
/// split across instances without changing any number. The step itself is `ck_rng_next` in
/// CKernels, shared with the vectorised 8-lane sampler (`RandomLanes`).
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    @usableFromInline var state: ck_rng

    /// A generator for stream `stream` of `seed`; distinct streams are statistically independent.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var mix = seed ^ (stream &* 0xD1B5_4A32_D192_ED03) ^ 0x5851_F42D_4C95_7F2D
        func splitMix() -> UInt64 {
            mix &+= 0x9E37_79B9_7F4A_7C15
            var z = mix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = ck_rng(s: (splitMix(), splitMix(), splitMix(), splitMix()))
    }

    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        ck_rng_next(&state)
    }

    /// A uniform draw from [0, 1) with 24 bits of resolution (every Float in the grid is equally likely).
    @inlinable @inline(__always)
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Two uniform draws from [0, 1) from one 64-bit output.
    @inlinable @inline(__always)
    public mutating func nextUniformPair() -> (Float, Float) {
        let bits = next()
        return (Float(bits >> 40) * 0x1p-24, Float((bits >> 8) & 0xFF_FFFF) * 0x1p-24)
    }

    /// A uniform draw from [low, high).
    @inlinable
    public mutating func nextUniform(in low: Float, _ high: Float) -> Float {
        low + (high - low) * nextUniform()
    }

    /// A standard normal draw (Box–Muller in Double, so the tails are exact to Float precision).
    public mutating func nextNormal() -> Float {
        let u1 = Double((next() >> 11) + 1) * 0x1p-53  // (0, 1]: log stays finite
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// True with probability `p`.
    @inlinable
    public mutating func nextBernoulli(_ p: Float) -> Bool {
        nextUniform() < p
    }

    /// The number of failures before the first success of a Bernoulli(p) sequence, 0 < p < 1.
    /// Lets sparse sampling jump straight to the next present feature instead of drawing every zero.
    @inlinable
    public mutating func nextGeometricSkip(logOfOneMinusP: Double) -> Int {
        let u = Double((next() >> 11) + 1) * 0x1p-53  // (0, 1]
        let skip = Foundation.log(u) / logOfOneMinusP
        return skip < Double(Int.max / 2) ? Int(skip) : Int.max / 2
    }
}

/// Eight `RandomGenerator` streams stepped side by side, for samplers that vectorise their draws.
public struct RandomLanes: Sendable {
    var lanes = ck_rng8()

    /// Lane l continues stream `8 · stream + l` of `seed`.
    public init(seed: UInt64, stream: UInt64) {
        for lane in 0..<8 {
            let generator = RandomGenerator(seed: seed, stream: stream &* 8 &+ UInt64(lane))
            ck_rng8_set_lane(&lanes, Int32(lane), generator.state)
        }
    }

    /// Calls `body` with the C state of the lanes.
    public mutating func withState<Result>(_ body: (UnsafeMutablePointer<ck_rng8>) -> Result) -> Result {
        body(&lanes)
    }
}

extension Tensor {
    /// A tensor of independent uniform draws from [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                               using generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.product).map { _ in generator.nextUniform(in: low, high) })
    }

    /// A tensor of independent normal draws with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
                              using generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.product).map { _ in mean + standardDeviation * generator.nextNormal() })
    }

    /// A tensor of 0/1 draws, each 1 with probability `p`.
    public static func bernoulli(_ shape: [Int], probability p: Float,
                                 using generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.product).map { _ in generator.nextBernoulli(p) ? 1 : 0 })
    }
}
