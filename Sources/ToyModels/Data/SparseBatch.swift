import TensorCore

/// One instance's batch in compressed sparse rows: sample b's present features are
/// `feature[rowStart[b] ..< rowStart[b + 1]]` with values `value[...]`.
public struct SparseRows: Sendable {
    /// `[batch + 1]` offsets into `feature` and `value`.
    public var rowStart: [Int32] = []
    /// Feature index of each present entry, ascending within a row.
    public var feature: [Int32] = []
    /// Value of each present entry.
    public var value: [Float] = []

    public init() {}

    /// The number of present entries.
    public var entryCount: Int { feature.count }

    mutating func removeAll() {
        rowStart.removeAll(keepingCapacity: true)
        feature.removeAll(keepingCapacity: true)
        value.removeAll(keepingCapacity: true)
    }
}

/// A batch of sparse feature vectors for every instance: logically `x: [instance, batch, n]`.
public struct SparseBatch: Sendable {
    public var instances: [SparseRows] = []
    public private(set) var batchSize = 0
    public private(set) var featureCount = 0

    public init() {}

    /// Empties the batch for reuse, keeping its storage.
    public mutating func reset(instanceCount: Int, batchSize: Int, featureCount: Int) {
        if instances.count != instanceCount { instances = Array(repeating: SparseRows(), count: instanceCount) }
        for i in instances.indices { instances[i].removeAll() }
        self.batchSize = batchSize
        self.featureCount = featureCount
    }

    /// The batch as a dense tensor `[instance, batch, n]`.
    public func dense() -> Tensor {
        var out = Tensor(zeros: [instances.count, batchSize, featureCount])
        for (i, rows) in instances.enumerated() {
            for b in 0..<batchSize {
                for e in Int(rows.rowStart[b])..<Int(rows.rowStart[b + 1]) {
                    out.scalars[(i * batchSize + b) * featureCount + Int(rows.feature[e])] = rows.value[e]
                }
            }
        }
        return out
    }

    /// A sparse batch holding the nonzeros of a dense `[instance, batch, n]` tensor.
    public init(dense: Tensor) {
        precondition(dense.rank == 3, "dense batch must be [instance, batch, n], got \(dense.shape)")
        let (count, batch, n) = (dense.shape[0], dense.shape[1], dense.shape[2])
        reset(instanceCount: count, batchSize: batch, featureCount: n)
        for i in 0..<count {
            instances[i].rowStart.append(0)
            for b in 0..<batch {
                for f in 0..<n where dense.scalars[(i * batch + b) * n + f] != 0 {
                    instances[i].feature.append(Int32(f))
                    instances[i].value.append(dense.scalars[(i * batch + b) * n + f])
                }
                instances[i].rowStart.append(Int32(instances[i].feature.count))
            }
        }
    }
}
