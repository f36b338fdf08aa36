/// How a line is drawn: colour, width, optional dash pattern and end caps.
public struct Stroke: Sendable, Hashable {
    public enum Cap: Sendable, Hashable {
        case butt, round, square
    }

    public var color: Color
    public var width: Double
    /// Alternating dash and gap lengths; empty for a solid line.
    public var dash: [Double]
    public var cap: Cap

    public init(_ color: Color, width: Double = 1, dash: [Double] = [], cap: Cap = .butt) {
        self.color = color
        self.width = width
        self.dash = dash
        self.cap = cap
    }
}
