import Foundation

// Reductions, matrix products, shape changes, softmax and indexing.
extension Variable {
    /// The sum of every scalar, as a rank-0 value.
    public func sum() -> Variable {
        let shape = self.shape
        return tape.record(Tensor(scalar: value.sum()), inputs: [self]) { g in [Tensor(repeating: g.scalar, shape: shape)] }
    }

    /// The mean of every scalar, as a rank-0 value.
    public func mean() -> Variable { sum() * (1 / Float(max(value.count, 1))) }

    /// The sum over `axes`.
    public func sum(alongAxes axes: [Int], keepingDims: Bool = false) -> Variable {
        let shape = self.shape
        let kept = value.sum(alongAxes: axes, keepingDims: true)
        let out = keepingDims ? kept : value.sum(alongAxes: axes)
        let keptShape = kept.shape
        return tape.record(out, inputs: [self]) { g in [g.reshaped(keptShape).broadcast(to: shape)] }
    }

    /// The mean over `axes`.
    public func mean(alongAxes axes: [Int], keepingDims: Bool = false) -> Variable {
        let n = axes.map { shape[$0 < 0 ? $0 + shape.count : $0] }.product
        return sum(alongAxes: axes, keepingDims: keepingDims) * (1 / Float(n))
    }

    /// Matrix product over the last two axes, batched over leading axes (see `Tensor.matmul`).
    public func matmul(_ other: Variable, transposeSelf: Bool = false, transposeOther: Bool = false) -> Variable {
        let (a, b) = (value, other.value)
        let out = Tensor.matmul(a, b, transposeA: transposeSelf, transposeB: transposeOther)
        return tape.record(out, inputs: [self, other]) { g in
            // d(op(A)) = G op(B)^T and d(op(B)) = op(A)^T G, then undo the op and any batch broadcast.
            var da = transposeSelf ? Tensor.matmul(b, g, transposeA: transposeOther, transposeB: true)
                                   : Tensor.matmul(g, b, transposeB: !transposeOther)
            var db = transposeOther ? Tensor.matmul(g, a, transposeA: true, transposeB: transposeSelf)
                                    : Tensor.matmul(a, g, transposeA: !transposeSelf)
            if da.rank > a.rank { da = da.sum(alongAxes: Array(0..<(da.rank - a.rank))) }
            if db.rank > b.rank { db = db.sum(alongAxes: Array(0..<(db.rank - b.rank))) }
            return [da, db]
        }
    }

    /// The last two axes swapped.
    public var transposed: Variable {
        tape.record(value.transposed, inputs: [self]) { g in [g.transposed] }
    }

    /// The axes reordered: result axis i is input axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (i, axis) in axes.enumerated() { inverse[axis] = i }
        return tape.record(value.permuted(axes), inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// The same scalars under another shape.
    public func reshaped(_ newShape: [Int]) -> Variable {
        let shape = self.shape
        return tape.record(value.reshaped(newShape), inputs: [self]) { g in [g.reshaped(shape)] }
    }

    /// Softmax over the last axis.
    public func softmax() -> Variable {
        let y = value.softmax()
        let width = shape.last ?? 1
        return tape.record(y, inputs: [self]) { g in
            // dx = y ⊙ (g − Σ_j g_j y_j), row by row.
            var dx = g
            for row in 0..<(y.count / max(width, 1)) {
                let base = row * width
                var dot: Float = 0
                for j in 0..<width { dot += g.scalars[base + j] * y.scalars[base + j] }
                for j in 0..<width { dx.scalars[base + j] = y.scalars[base + j] * (g.scalars[base + j] - dot) }
            }
            return [dx]
        }
    }

    /// Log-softmax over the last axis.
    public func logSoftmax() -> Variable {
        let y = value.logSoftmax()
        let width = shape.last ?? 1
        return tape.record(y, inputs: [self]) { g in
            // dx = g − softmax ⊙ Σ_j g_j, row by row.
            var dx = g
            for row in 0..<(y.count / max(width, 1)) {
                let base = row * width
                var total: Float = 0
                for j in 0..<width { total += g.scalars[base + j] }
                for j in 0..<width { dx.scalars[base + j] = g.scalars[base + j] - Foundation.exp(y.scalars[base + j]) * total }
            }
            return [dx]
        }
    }

    /// Rows of a table: `self: [rows, width]`, `indices: [count]` -> `[count, width]` (an embedding lookup).
    public func gatheringRows(_ indices: [Int]) -> Variable {
        let table = value
        precondition(table.rank == 2, "gatheringRows needs a [rows, width] table, shape is \(table.shape)")
        let width = table.shape[1]
        var out = [Float](repeating: 0, count: indices.count * width)
        for (r, index) in indices.enumerated() {
            precondition(index >= 0 && index < table.shape[0], "row \(index) out of range 0..<\(table.shape[0])")
            for j in 0..<width { out[r * width + j] = table.scalars[index * width + j] }
        }
        return tape.record(Tensor(shape: [indices.count, width], scalars: out), inputs: [self]) { g in
            var dt = Tensor(zeros: table.shape)
            for (r, index) in indices.enumerated() {
                for j in 0..<width { dt.scalars[index * width + j] += g.scalars[r * width + j] }
            }
            return [dt]
        }
    }

    /// One entry per row along the last axis: `self: [..., c]`, `indices` one per row -> `[...]`.
    /// With `logSoftmax()` this is the log-likelihood of class labels (cross-entropy = −mean).
    public func selectingAlongLastAxis(_ indices: [Int]) -> Variable {
        let x = value
        let width = shape.last ?? 1
        precondition(indices.count * width == x.count, "need one index per row: \(indices.count) for shape \(x.shape)")
        var out = [Float](repeating: 0, count: indices.count)
        for (r, index) in indices.enumerated() {
            precondition(index >= 0 && index < width, "index \(index) out of range 0..<\(width)")
            out[r] = x.scalars[r * width + index]
        }
        return tape.record(Tensor(shape: Array(x.shape.dropLast()), scalars: out), inputs: [self]) { g in
            var dx = Tensor(zeros: x.shape)
            for (r, index) in indices.enumerated() { dx.scalars[r * width + index] = g.scalars[r] }
            return [dx]
        }
    }

    /// Mean cross-entropy of `logits: [rows, classes]` against one class label per row.
    public func crossEntropy(labels: [Int]) -> Variable {
        -(logSoftmax().selectingAlongLastAxis(labels).mean())
    }
}
