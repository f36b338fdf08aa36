/// Pairs of coordinates that can actually be drawn, and how many could not.
struct DrawablePairs {
    struct Pair {
        var index: Int
        var x: Double
        var y: Double
    }

    var pairs: [Pair] = []
    var skipped = 0

    /// Keeps pairs that are finite (and positive on log axes); unmatched trailing values count as skipped.
    init(x: [Double], y: [Double], xScale: AxisScale = .linear, yScale: AxisScale = .linear) {
        let count = min(x.count, y.count)
        skipped = max(x.count, y.count) - count
        pairs.reserveCapacity(count)
        for index in 0..<count {
            let a = x[index], b = y[index]
            if Self.isDrawable(a, on: xScale) && Self.isDrawable(b, on: yScale) {
                pairs.append(Pair(index: index, x: a, y: b))
            } else {
                skipped += 1
            }
        }
    }

    static func isDrawable(_ value: Double, on scale: AxisScale) -> Bool {
        value.isFinite && (scale == .linear || value > 0)
    }

    /// A note for the figure when something was left out, explaining why.
    static func note(skipped: Int, noun: String = "point", logAxis: Bool) -> [String] {
        guard skipped > 0 else { return [] }
        let reason = logAxis ? "missing, non-finite or ≤ 0 on a log axis" : "missing or non-finite"
        return ["\(skipped) \(noun)\(skipped == 1 ? "" : "s") not shown (\(reason))"]
    }

    static let emptyMessage = "No finite data to plot"
}
