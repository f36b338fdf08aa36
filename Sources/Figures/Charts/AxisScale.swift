/// How a numeric axis maps values to positions.
public enum AxisScale: Sendable, Hashable {
    case linear
    /// Logarithmic with ticks at powers of ten; values ≤ 0 cannot be shown and are skipped.
    case log10
}
