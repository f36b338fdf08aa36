import Foundation

extension Tensor {
    /// Applies `body` to every scalar.
    public func map(_ body: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map(body))
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { zip(a, b, +) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { zip(a, b, -) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { zip(a, b, *) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { zip(a, b, /) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }
    public static func * (s: Float, a: Tensor) -> Tensor { a.map { $0 * s } }
    public static func + (a: Tensor, s: Float) -> Tensor { a.map { $0 + s } }
    public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }

    /// Adds `other` in place (same shape).
    public static func += (a: inout Tensor, b: Tensor) {
        precondition(a.shape == b.shape, "+= needs equal shapes, got \(a.shape) and \(b.shape)")
        a.scalars.withUnsafeMutableBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                for i in 0..<pa.count { pa[i] += pb[i] }
            }
        }
    }

    /// The sum of all scalars, accumulated in Double.
    public func sum() -> Float {
        Float(scalars.reduce(0.0) { $0 + Double($1) })
    }

    /// Sums over `axes`, keeping them as extent-1 axes when `keepingDims` is true.
    public func sum(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        let axes = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
        precondition(axes.allSatisfy { $0 >= 0 && $0 < rank }, "axes \(axes) out of range for rank \(rank)")
        let kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let reduced = unbroadcast(to: kept)
        return keepingDims ? reduced : reduced.reshaped(shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    }

    /// The mean over `axes`.
    public func mean(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        let n = axes.map { shape[$0 < 0 ? $0 + rank : $0] }.product
        return sum(alongAxes: axes, keepingDims: keepingDims) * (1 / Float(n))
    }

    /// The axes reordered: result axis i is input axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "permutation \(axes) is not one of 0..<\(rank)")
        let newShape = axes.map { shape[$0] }
        let oldStrides = strides
        let permutedStrides = axes.map { oldStrides[$0] }
        var out = [Float](repeating: 0, count: count)
        var position = [Int](repeating: 0, count: rank)
        for flat in 0..<count {
            var offset = 0
            for axis in 0..<rank { offset += position[axis] * permutedStrides[axis] }
            out[flat] = scalars[offset]
            var axis = rank - 1
            while axis >= 0 {
                position[axis] += 1
                if position[axis] < newShape[axis] { break }
                position[axis] = 0
                axis -= 1
            }
        }
        return Tensor(shape: newShape, scalars: out)
    }

    /// The last two axes swapped: `[..., a, b] -> [..., b, a]`.
    public var transposed: Tensor {
        precondition(rank >= 2, "transposed needs rank >= 2, shape is \(shape)")
        return permuted(Array(0..<rank - 2) + [rank - 1, rank - 2])
    }

    /// Matrix product over the last two axes, batched over leading axes.
    ///
    /// `a: [..., m, k]`, `b: [..., k, n]` -> `[..., m, n]`. The leading axes must be equal,
    /// or one operand may be a plain matrix shared by every batch entry.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        Tensor.matmul(self, other, transposeA: transposeSelf, transposeB: transposeOther)
    }

    /// See `matmul(_:transposeSelf:transposeOther:)`.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank >= 2, got \(a.shape) and \(b.shape)")
        let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (ac, ar) : (ar, ac)
        let (k2, n) = transposeB ? (bc, br) : (br, bc)
        precondition(k == k2, "matmul inner extents differ: \(a.shape) and \(b.shape)")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        precondition(batchA == batchB || batchA.isEmpty || batchB.isEmpty,
                     "matmul batch axes differ: \(a.shape) and \(b.shape)")
        let batchShape = batchA.isEmpty ? batchB : batchA
        let batch = batchShape.product
        var out = [Float](repeating: 0, count: batch * m * n)
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    for index in 0..<batch {
                        let aOffset = batchA.isEmpty ? 0 : index * ar * ac
                        let bOffset = batchB.isEmpty ? 0 : index * br * bc
                        GEMM.multiply(m: m, n: n, k: k,
                                      a: pa.baseAddress! + aOffset, lda: ac, transposeA: transposeA,
                                      b: pb.baseAddress! + bOffset, ldb: bc, transposeB: transposeB,
                                      c: pc.baseAddress! + index * m * n, ldc: n)
                    }
                }
            }
        }
        return Tensor(shape: batchShape + [m, n], scalars: out)
    }

    /// Softmax over the last axis, computed stably (max subtracted).
    public func softmax() -> Tensor {
        logSoftmax().map { Foundation.exp($0) }
    }

    /// Log-softmax over the last axis, computed stably.
    public func logSoftmax() -> Tensor {
        precondition(rank >= 1, "logSoftmax needs rank >= 1")
        let width = shape[rank - 1]
        var out = scalars
        guard width > 0 else { return self }
        for row in 0..<(count / width) {
            let base = row * width
            var top = -Float.infinity
            for j in 0..<width { top = max(top, out[base + j]) }
            if top == -.infinity { top = 0 }
            var total: Double = 0
            for j in 0..<width { total += Foundation.exp(Double(out[base + j] - top)) }
            // (x − max) − log Σ exp(x − max): the shift is exact, so large scores (~1e4) keep full
            // precision; adding max to the log-sum first would round it to the ulp of max (~1e-3).
            let logTotal = Float(Foundation.log(total))
            for j in 0..<width { out[base + j] = (out[base + j] - top) - logTotal }
        }
        return Tensor(shape: shape, scalars: out)
    }
}
