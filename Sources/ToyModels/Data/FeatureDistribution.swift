import TensorCore

/// How present features take their values.
public enum FeatureValues: Codable, Equatable, Sendable {
    /// Uniform on [low, high): the Toy Models default is [0, 1); the absolute-value model uses [−1, 1).
    case uniform(low: Float, high: Float)
    /// Always the same value (e.g. binary features, value 1).
    case constant(Float)
    /// One of a few values, each equally likely (e.g. 1, 2 or 3).
    case discrete([Float])

    public static let unitInterval = FeatureValues.uniform(low: 0, high: 1)

    /// Maps a uniform draw u in [0, 1) to a feature value.
    @inlinable
    public func value(fromUniform u: Float) -> Float {
        switch self {
        case let .uniform(low, high): return low + (high - low) * u
        case let .constant(value): return value
        case let .discrete(values): return values[min(Int(u * Float(values.count)), values.count - 1)]
        }
    }

    /// A one-line error when the law cannot be sampled, nil when it is valid.
    public var problem: String? {
        switch self {
        case let .uniform(low, high):
            return low.isFinite && high.isFinite && low <= high ? nil : "feature values: uniform needs finite low <= high, got [\(low), \(high))"
        case let .constant(value):
            return value.isFinite ? nil : "feature values: constant must be finite"
        case let .discrete(values):
            return !values.isEmpty && values.allSatisfy(\.isFinite) ? nil : "feature values: discrete needs at least one finite value"
        }
    }
}

/// The synthetic data of the Toy Models: each feature is present independently with its own
/// probability, and takes a value from `values` when present.
///
/// `probabilities: [instance, n]` — one row per model instance, so a sweep over sparsity trains
/// every density at once.
public struct FeatureDistribution: Equatable, Sendable {
    public var probabilities: Tensor
    public var values: FeatureValues

    public var instanceCount: Int { probabilities.shape[0] }
    public var featureCount: Int { probabilities.shape[1] }

    /// - Parameter probabilities: `[instance, n]`, each in [0, 1].
    public init(probabilities: Tensor, values: FeatureValues = .unitInterval) {
        precondition(probabilities.rank == 2, "probabilities must be [instance, n], got \(probabilities.shape)")
        self.probabilities = probabilities
        self.values = values
    }

    /// One probability per instance, shared by all `featureCount` features of that instance.
    public init(instanceProbabilities: [Float], featureCount: Int, values: FeatureValues = .unitInterval) {
        let rows = instanceProbabilities.flatMap { Array(repeating: $0, count: featureCount) }
        self.init(probabilities: Tensor(shape: [instanceProbabilities.count, featureCount], scalars: rows), values: values)
    }

    /// Draws a batch for every instance. Instance i uses its own stream of `seed`, so results do
    /// not depend on how instances are scheduled.
    public func sample(batchSize: Int, generators: inout [RandomGenerator], into batch: inout SparseBatch) {
        precondition(generators.count == instanceCount, "need one generator per instance")
        batch.reset(instanceCount: instanceCount, batchSize: batchSize, featureCount: featureCount)
        for instance in 0..<instanceCount {
            sampleInstance(instance, batchSize: batchSize, generator: &generators[instance], into: &batch.instances[instance])
        }
    }

    /// A new batch (see `sample(batchSize:generators:into:)`).
    public func sample(batchSize: Int, generators: inout [RandomGenerator]) -> SparseBatch {
        var batch = SparseBatch()
        sample(batchSize: batchSize, generators: &generators, into: &batch)
        return batch
    }

    /// Fills one instance's rows. Dense rows test every feature with one 64-bit draw (32 bits decide
    /// presence, 24 bits give the value); sparse rows jump from one present feature to the next with
    /// geometric skips, so absent features cost nothing.
    func sampleInstance(_ instance: Int, batchSize: Int, generator: inout RandomGenerator, into rows: inout SparseRows) {
        let n = featureCount
        let row = Array(probabilities.scalars[instance * n ..< (instance + 1) * n])
        let uniformRow = row.allSatisfy { $0 == row[0] }
        let values = self.values
        rows.rowStart.append(0)
        if uniformRow && row[0] > 0 && row[0] < 0.2 {
            let logOfOneMinusP = log(1 - Double(row[0]))
            let total = batchSize * n
            var position = generator.nextGeometricSkip(logOfOneMinusP: logOfOneMinusP)
            var currentRow = 0
            while position < total {
                let b = position / n
                while currentRow < b { rows.rowStart.append(Int32(rows.feature.count)); currentRow += 1 }
                rows.feature.append(Int32(position - b * n))
                rows.value.append(values.value(fromUniform: generator.nextUniform()))
                position += 1 + generator.nextGeometricSkip(logOfOneMinusP: logOfOneMinusP)
            }
            while currentRow < batchSize { rows.rowStart.append(Int32(rows.feature.count)); currentRow += 1 }
            return
        }
        // Presence threshold on 32 random bits: present iff bits < p · 2^32.
        let thresholds = row.map { UInt64((Double(max(0, min(1, $0))) * 4_294_967_296).rounded()) }
        let start = rows.feature.count
        let capacity = start + batchSize * n
        // Write through pointers into storage sized for the worst case (every feature present),
        // then trim: appending element by element costs more than drawing the numbers.
        rows.feature.append(contentsOf: repeatElement(0, count: batchSize * n))
        rows.value.append(contentsOf: repeatElement(0, count: batchSize * n))
        var used = start
        rows.feature.withUnsafeMutableBufferPointer { features in
        rows.value.withUnsafeMutableBufferPointer { valuesOut in
        thresholds.withUnsafeBufferPointer { thresholds in
            for _ in 0..<batchSize {
                for feature in 0..<n {
                    let bits = generator.next()
                    features[used] = Int32(feature)
                    valuesOut[used] = values.value(fromUniform: Float(bits & 0xFF_FFFF) * 0x1p-24)
                    // Branch-free: the slot is kept only when the feature is present.
                    used &+= (bits >> 32) < thresholds[feature] ? 1 : 0
                }
                rows.rowStart.append(Int32(used))
            }
        }}}
        rows.feature.removeLast(capacity - used)
        rows.value.removeLast(capacity - used)
    }
}

import Foundation
