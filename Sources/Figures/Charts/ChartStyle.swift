/// Font sizes and line weights shared by all charts.
public struct ChartStyle: Sendable, Hashable {
    public var titleSize: Double
    public var labelSize: Double
    public var tickLabelSize: Double
    public var legendSize: Double
    public var lineWidth: Double
    public var markerRadius: Double
    /// Empty space around the chart's outer edge.
    public var padding: Double

    public init(titleSize: Double = 14.5, labelSize: Double = 12, tickLabelSize: Double = 10.5,
                legendSize: Double = 10.5, lineWidth: Double = 1.8, markerRadius: Double = 3.2,
                padding: Double = 10) {
        self.titleSize = titleSize
        self.labelSize = labelSize
        self.tickLabelSize = tickLabelSize
        self.legendSize = legendSize
        self.lineWidth = lineWidth
        self.markerRadius = markerRadius
        self.padding = padding
    }

    /// For stand-alone figures.
    public static let standard = ChartStyle()

    /// For panels of ``SmallMultiples``.
    public static let compact = ChartStyle(titleSize: 11.5, labelSize: 10, tickLabelSize: 9, legendSize: 9,
                                           lineWidth: 1.5, markerRadius: 2.6, padding: 6)

    static let gridColor = Color(hex: 0xE6E6E6)
    static let mutedText = Color(hex: 0x6B6B6B)
    static let referenceColor = Color(hex: 0x555555)
}
