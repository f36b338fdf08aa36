/// Loops over the batch axis of feature-major scratch (`[feature][batch]`), where every row is
/// contiguous: they vectorise, which is why the decomposition steps keep batch innermost.
enum BatchVectors {
    /// y += a · x
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        for t in 0..<count { y[t] += a * x[t] }
    }

    /// Σ x·y
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Float {
        // Eight partial sums let the loop vectorise without reassociation flags.
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0, s4: Float = 0, s5: Float = 0, s6: Float = 0, s7: Float = 0
        var t = 0
        while t + 8 <= count {
            s0 += x[t] * y[t]; s1 += x[t + 1] * y[t + 1]; s2 += x[t + 2] * y[t + 2]; s3 += x[t + 3] * y[t + 3]
            s4 += x[t + 4] * y[t + 4]; s5 += x[t + 5] * y[t + 5]; s6 += x[t + 6] * y[t + 6]; s7 += x[t + 7] * y[t + 7]
            t += 8
        }
        while t < count { s0 += x[t] * y[t]; t += 1 }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    }

    /// Σ x for x holding whole numbers whose sum stays below 2^24: exact, so any order gives the bits
    /// of the sum in index order; here eight partial sums, which vectorise.
    @inline(__always)
    static func sumOfWholeNumbers(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0, s4: Float = 0, s5: Float = 0, s6: Float = 0, s7: Float = 0
        var t = 0
        while t + 8 <= count {
            s0 += x[t]; s1 += x[t + 1]; s2 += x[t + 2]; s3 += x[t + 3]; s4 += x[t + 4]; s5 += x[t + 5]; s6 += x[t + 6]; s7 += x[t + 7]
            t += 8
        }
        while t < count { s0 += x[t]; t += 1 }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    }

    /// y += x ⊙ x
    @inline(__always)
    static func addSquares(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        for t in 0..<count { y[t] += x[t] * x[t] }
    }

    /// y += m ⊙ x
    @inline(__always)
    static func addProduct(_ m: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        for t in 0..<count { y[t] += m[t] * x[t] }
    }

    /// y −= m ⊙ x
    @inline(__always)
    static func subtractProduct(_ m: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        for t in 0..<count { y[t] -= m[t] * x[t] }
    }

    /// y = m ⊙ x
    @inline(__always)
    static func multiply(_ m: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        for t in 0..<count { y[t] = m[t] * x[t] }
    }

    /// Transposes `x: [rows, columns]` into `y: [columns, rows]`.
    static func transpose(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { for c in 0..<columns { y[c * rows + r] = x[r * columns + c] } }
    }
}

/// Scratch memory a step owns for its lifetime.
final class Scratch {
    private var buffers: [UnsafeMutablePointer<Float>] = []

    /// A zeroed buffer of `count` floats, freed with the scratch.
    func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        buffers.append(p)
        return p
    }

    deinit {
        for p in buffers { p.deallocate() }
    }
}
