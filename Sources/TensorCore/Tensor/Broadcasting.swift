/// NumPy-style broadcasting of two shapes: trailing axes are aligned, and an axis of extent 1
/// stretches to match the other.
public enum Broadcasting {
    /// The broadcast shape of `a` and `b`, or nil when they are incompatible.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = Array(repeating: 1, count: rank)
        for axis in 0..<rank {
            let ea = axis < rank - a.count ? 1 : a[axis - (rank - a.count)]
            let eb = axis < rank - b.count ? 1 : b[axis - (rank - b.count)]
            guard ea == eb || ea == 1 || eb == 1 else { return nil }
            result[axis] = ea == 1 ? eb : ea
        }
        return result
    }

    /// For each flat index of `target`, the flat index of the broadcast source of shape `source`.
    static func sourceIndices(source: [Int], target: [Int]) -> [Int] {
        let padded = Array(repeating: 1, count: target.count - source.count) + source
        let sourceStrides = Tensor.strides(of: padded)
        var indices = [Int](repeating: 0, count: target.product)
        var position = [Int](repeating: 0, count: target.count)
        for flat in 0..<indices.count {
            var offset = 0
            for axis in 0..<target.count where padded[axis] != 1 {
                offset += position[axis] * sourceStrides[axis]
            }
            indices[flat] = offset
            var axis = target.count - 1
            while axis >= 0 {
                position[axis] += 1
                if position[axis] < target[axis] { break }
                position[axis] = 0
                axis -= 1
            }
        }
        return indices
    }
}

extension Tensor {
    /// Combines two tensors elementwise after broadcasting them to a common shape.
    /// - Precondition: the shapes broadcast (callers validate user-facing shapes first).
    public static func zip(_ a: Tensor, _ b: Tensor, _ body: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            var out = [Float](repeating: 0, count: a.count)
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    for i in 0..<out.count { out[i] = body(pa[i], pb[i]) }
                }
            }
            return Tensor(shape: a.shape, scalars: out)
        }
        guard let shape = Broadcasting.shape(a.shape, b.shape) else {
            preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        if b.count == 1 {
            let s = b.scalars[0]
            return Tensor(shape: shape, scalars: Broadcasting.sourceIndices(source: a.shape, target: shape).map { body(a.scalars[$0], s) })
        }
        if a.count == 1 {
            let s = a.scalars[0]
            return Tensor(shape: shape, scalars: Broadcasting.sourceIndices(source: b.shape, target: shape).map { body(s, b.scalars[$0]) })
        }
        let ia = Broadcasting.sourceIndices(source: a.shape, target: shape)
        let ib = Broadcasting.sourceIndices(source: b.shape, target: shape)
        var out = [Float](repeating: 0, count: shape.product)
        for i in 0..<out.count { out[i] = body(a.scalars[ia[i]], b.scalars[ib[i]]) }
        return Tensor(shape: shape, scalars: out)
    }

    /// The tensor broadcast to `shape` (a copy with repeated scalars).
    public func broadcast(to shape: [Int]) -> Tensor {
        if self.shape == shape { return self }
        precondition(Broadcasting.shape(self.shape, shape) == shape, "cannot broadcast \(self.shape) to \(shape)")
        return Tensor(shape: shape, scalars: Broadcasting.sourceIndices(source: self.shape, target: shape).map { scalars[$0] })
    }

    /// Sums a broadcast result back to the shape it was broadcast from: the adjoint of `broadcast(to:)`.
    public func unbroadcast(to shape: [Int]) -> Tensor {
        if self.shape == shape { return self }
        var out = [Float](repeating: 0, count: shape.product)
        let indices = Broadcasting.sourceIndices(source: shape, target: self.shape)
        for i in 0..<count { out[indices[i]] += scalars[i] }
        return Tensor(shape: shape, scalars: out)
    }
}
