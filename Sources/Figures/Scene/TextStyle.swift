/// Font size, weight, colour and alignment of a text primitive.
public struct TextStyle: Sendable, Hashable {
    /// Horizontal alignment relative to the text's position.
    public enum Anchor: Sendable, Hashable {
        case start, middle, end
    }

    /// Vertical alignment relative to the text's position.
    public enum Alignment: Sendable, Hashable {
        /// The position is on the baseline.
        case baseline
        /// The position is half-way up the capital letters.
        case middle
        /// The position is at the top of the capital letters.
        case top
        /// The position is at the bottom of the descenders.
        case bottom
    }

    public enum Weight: Sendable, Hashable {
        case regular, bold
    }

    public var size: Double
    public var weight: Weight
    public var color: Color
    public var anchor: Anchor
    public var alignment: Alignment
    /// Clockwise rotation in degrees about the text's position (-90 reads bottom to top).
    public var rotation: Double

    public init(size: Double = 11, weight: Weight = .regular, color: Color = .ink,
                anchor: Anchor = .start, alignment: Alignment = .baseline, rotation: Double = 0) {
        self.size = size
        self.weight = weight
        self.color = color
        self.anchor = anchor
        self.alignment = alignment
        self.rotation = rotation
    }

    /// Distance from the position to the baseline along the text's own vertical axis,
    /// shared by both renderers so that SVG and PNG place text identically.
    var baselineOffset: Double {
        switch alignment {
        case .baseline: return 0
        case .middle: return 0.36 * size
        case .top: return 0.72 * size
        case .bottom: return -0.21 * size
        }
    }
}
