/// Which instances a figure shows when there are too many for one panel each.
enum InstanceSelection {
    /// At most `limit` indices out of `0..<count`, evenly spaced, always including the first and
    /// last (the densest and sparsest instance of a sparsity sweep).
    static func evenlySpaced(count: Int, limit: Int) -> [Int] {
        guard count > limit, limit > 1 else { return Array(0..<min(count, max(limit, 1))) }
        let picked = (0..<limit).map { k in Int((Double(k) * Double(count - 1) / Double(limit - 1)).rounded()) }
        return Array(Set(picked)).sorted()
    }
}
