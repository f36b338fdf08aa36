/// Cuts `0..<count` into contiguous ranges, one per thread.
///
/// Work split this way keeps each thread on neighbouring items (instances, components, rows), so a
/// thread's share stays together in memory and every item is still done by exactly one thread.
public enum ContiguousPartition {
    /// `0..<count` in `parts` contiguous ranges whose sizes differ by at most one.
    public static func even(count: Int, parts: Int) -> [Range<Int>] {
        precondition(count >= 0 && parts >= 1, "count must be >= 0 and parts >= 1")
        return (0..<parts).map { t in (count * t / parts)..<(count * (t + 1) / parts) }
    }

    /// `0..<weights.count` in `parts` contiguous ranges of about equal total weight: the t-th cut
    /// goes where the running total comes closest to t/parts of the whole (the earlier cut on a tie).
    /// A range is empty where one item outweighs a whole share; with no weight at all the split is `even`.
    /// - Parameter weights: each item's cost, ≥ 0 (seconds, flops: any unit).
    public static func balanced(weights: [Double], parts: Int) -> [Range<Int>] {
        precondition(parts >= 1, "parts must be >= 1")
        precondition(weights.allSatisfy { $0 >= 0 && $0.isFinite }, "weights must be finite and >= 0")
        let total = weights.reduce(0, +)
        guard total > 0, parts > 1 else { return even(count: weights.count, parts: parts) }
        // running[i]: the weight of items 0..<i.
        let running = weights.reduce(into: [0.0]) { $0.append($0.last! + $1) }
        var cuts = [0]
        var i = 0
        for t in 1..<parts {
            let share = total * Double(t) / Double(parts)
            while i < weights.count && abs(running[i + 1] - share) < abs(running[i] - share) { i += 1 }
            cuts.append(i)
        }
        cuts.append(weights.count)
        return (0..<parts).map { cuts[$0]..<cuts[$0 + 1] }
    }
}
