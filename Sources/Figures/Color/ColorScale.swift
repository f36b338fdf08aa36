/// How numeric values are mapped to colours: a colour map plus the value range it spans.
public struct ColorScale: Sendable, Hashable {
    public var map: ColorMap
    /// Fixed value range; `nil` takes the range of the data.
    public var domain: ClosedRange<Double>?
    /// Whether the range is forced to `-limit...limit` so that zero sits at the map's centre.
    public var isSymmetric: Bool

    public init(map: ColorMap, domain: ClosedRange<Double>? = nil, isSymmetric: Bool = false) {
        self.map = map
        self.domain = domain
        self.isSymmetric = isSymmetric
    }

    /// A sequential scale (viridis by default) over `domain`, or over the data when `nil`.
    public static func sequential(_ map: ColorMap = .viridis, domain: ClosedRange<Double>? = nil) -> ColorScale {
        ColorScale(map: map, domain: domain)
    }

    /// A diverging scale (blue-white-red by default) over `-limit...limit`;
    /// with `limit == nil` the limit is the largest absolute value in the data.
    public static func diverging(_ map: ColorMap = .redBlue, limit: Double? = nil) -> ColorScale {
        let domain = limit.flatMap { $0.isFinite && $0 > 0 ? -$0...$0 : nil }
        return ColorScale(map: map, domain: domain, isSymmetric: true)
    }

    /// The concrete value range for some data: finite values only, never empty or inverted.
    public func resolvedDomain(for values: [Double]) -> ClosedRange<Double> {
        if let domain, domain.lowerBound.isFinite, domain.upperBound.isFinite,
           domain.upperBound > domain.lowerBound {
            return domain
        }
        let finite = values.filter(\.isFinite)
        if isSymmetric {
            let limit = finite.map(abs).max() ?? 0
            return limit > 0 ? -limit...limit : -1...1
        }
        guard let low = finite.min(), let high = finite.max() else { return 0...1 }
        if high > low { return low...high }
        return (low - 0.5)...(high + 0.5)
    }

    /// The colour of `value` given a resolved domain; non-finite values get neutral grey.
    public func color(for value: Double, in domain: ClosedRange<Double>) -> Color {
        guard value.isFinite else { return Color(hex: 0xBDBDBD) }
        let span = domain.upperBound - domain.lowerBound
        return map.color(at: span > 0 ? (value - domain.lowerBound) / span : 0.5)
    }
}
