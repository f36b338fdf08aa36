/// Batch top-k (Bussmann et al. 2024, as APD uses it): over a whole batch's `[C, batch]`
/// attributions, keep the `count` largest (sample, component) pairs.
///
/// Ties are broken by position (component-major index), so the mask is deterministic.
public struct BatchTopK {
    private var candidates: [UInt32] = []
    private var histogram = [Int](repeating: 0, count: 1 << 11)

    public init() {}

    /// Writes 1 to `mask` for the kept pairs and 0 elsewhere.
    /// - Parameters:
    ///   - scores: `[C, batch]` attributions, component-major; mask: the same shape.
    public mutating func select(scores: UnsafePointer<Float>, count total: Int, keep: Int,
                                mask: UnsafeMutablePointer<Float>) {
        precondition(keep >= 0 && keep <= total, "cannot keep \(keep) of \(total)")
        guard keep > 0 else { mask.update(repeating: 0, count: total); return }
        let threshold = kthLargest(scores, total, keep)
        // Everything above the threshold, then ties at the threshold in index order. Without
        // branches: whether a score passes is as good as random to the branch predictor.
        var above = 0
        for i in 0..<total {
            let kept = scores[i] > threshold
            mask[i] = kept ? 1 : 0
            above &+= kept ? 1 : 0
        }
        var ties = keep - above, i = 0
        while ties > 0 && i < total {
            if scores[i] == threshold { mask[i] = 1; ties -= 1 }
            i += 1
        }
    }

    /// The 0/1 mask of the `keep` largest of `scores` (`[C, batch]`, component-major).
    public mutating func mask(scores: [Float], keep: Int) -> [Float] {
        var mask = [Float](repeating: 0, count: scores.count)
        select(scores: scores, count: scores.count, keep: keep, mask: &mask)
        return mask
    }

    /// A key whose unsigned order is the order of the floats (−0 just below +0).
    @inline(__always)
    static func orderKey(_ value: Float) -> UInt32 {
        let bits = value.bitPattern
        return bits & 0x8000_0000 == 0 ? bits | 0x8000_0000 : ~bits
    }

    /// The k-th largest of `values[0..<count]` (1-based k), by radix selection on `orderKey`: a
    /// histogram of the keys' top 11 bits finds the bucket holding it, whose members are gathered
    /// and narrowed on the next 11 bits, then the last 10. Three passes with few branches, where a
    /// quickselect mispredicts about every other comparison.
    mutating func kthLargest(_ values: UnsafePointer<Float>, _ count: Int, _ k: Int) -> Float {
        if candidates.count < count { candidates = [UInt32](repeating: 0, count: count) }
        var rank = k  // the wanted key's rank, from the top, among the keys still in play
        var prefix: UInt32 = 0
        candidates.withUnsafeMutableBufferPointer { buffer in
            let kept = buffer.baseAddress!
            // Attributions are mostly exact zeros (at TMS 5-2's density three samples in four have no
            // feature present): when at least k values are positive, the k-th largest is among them.
            var live = 0
            for i in 0..<count {
                kept[live] = Self.orderKey(values[i])
                live &+= values[i] > 0 ? 1 : 0
            }
            if live < k {
                for i in 0..<count { kept[i] = Self.orderKey(values[i]) }
                live = count
            }
            for (shift, width) in [(21, 11), (10, 11), (0, 10)] as [(UInt32, UInt32)] {
                let buckets = 1 << Int(width), digitMask = UInt32(buckets - 1)
                histogram.withUnsafeMutableBufferPointer { h in
                    h.baseAddress!.update(repeating: 0, count: buckets)
                    for i in 0..<live { h[Int((kept[i] >> shift) & digitMask)] += 1 }
                    var digit = buckets - 1
                    while h[digit] < rank { rank -= h[digit]; digit -= 1 }
                    prefix |= UInt32(digit) << shift
                }
                guard shift > 0 else { break }
                // Keep the keys that share the prefix found so far.
                let high = prefix >> shift
                var next = 0
                for i in 0..<live {
                    let key = kept[i]
                    kept[next] = key
                    next += key >> shift == high ? 1 : 0
                }
                live = next
            }
        }
        let bits = prefix & 0x8000_0000 != 0 ? prefix & 0x7FFF_FFFF : ~prefix
        return Float(bitPattern: bits)
    }
}
