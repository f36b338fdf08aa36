/// A continuous colour map from `0...1` to colours, defined by evenly spaced stops.
public struct ColorMap: Sendable, Hashable {
    /// Evenly spaced colours; position `i` sits at `i / (stops.count - 1)`.
    public var stops: [Color]
    /// Whether the map is meant to be centred on zero (a diverging map).
    public var isDiverging: Bool

    public init(stops: [Color], isDiverging: Bool = false) {
        precondition(!stops.isEmpty, "a colour map needs at least one stop")
        self.stops = stops
        self.isDiverging = isDiverging
    }

    /// The colour at `position`, clamped to `0...1`; NaN gives the midpoint.
    public func color(at position: Double) -> Color {
        guard stops.count > 1 else { return stops[0] }
        let t = position.isNaN ? 0.5 : min(1, max(0, position))
        let scaled = t * Double(stops.count - 1)
        let index = min(stops.count - 2, Int(scaled))
        return stops[index].mixed(with: stops[index + 1], fraction: scaled - Double(index))
    }

    /// Perceptually uniform dark-purple → teal → yellow, sampled from matplotlib's viridis.
    public static let viridis = ColorMap(stops: [
        0x440154, 0x482475, 0x414487, 0x355F8D, 0x2A788E, 0x21918C,
        0x22A884, 0x44BF70, 0x7AD151, 0xBDDF26, 0xFDE725,
    ].map { Color(hex: $0) })

    /// Blue (negative) → white (zero) → red (positive), like matplotlib's `RdBu_r`.
    ///
    /// The centre stop is pure white (ColorBrewer uses #f7f7f7) so that exact zeros vanish.
    public static let redBlue = ColorMap(stops: [
        0x053061, 0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xFFFFFF,
        0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B, 0x67001F,
    ].map { Color(hex: $0) }, isDiverging: true)

    /// White → dark blue, for magnitudes where zero should look empty.
    public static let blues = ColorMap(stops: [
        0xF7FBFF, 0xDEEBF7, 0xC6DBEF, 0x9ECAE1, 0x6BAED6,
        0x4292C6, 0x2171B5, 0x08519C, 0x08306B,
    ].map { Color(hex: $0) })

    /// Light → dark grey.
    public static let grays = ColorMap(stops: [Color(hex: 0xF0F0F0), Color(hex: 0x101010)])
}
