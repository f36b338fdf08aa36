/// A chart that can draw itself into a rectangle, alone or as a panel of ``SmallMultiples``.
public protocol Chart: Sendable {
    /// Drawn above the chart (or the panel).
    var title: String { get }
    /// The size ``figure(width:height:style:)`` uses when none is given.
    var defaultSize: Size { get }
    /// The chart's drawing inside `frame`.
    func primitives(in frame: Rect, style: ChartStyle) -> [Primitive]
}

extension Chart {
    public var defaultSize: Size { Size(width: 560, height: 400) }

    /// The chart as a stand-alone figure.
    public func figure(width: Double? = nil, height: Double? = nil, style: ChartStyle = .standard) -> Figure {
        let size = Size(width: width ?? defaultSize.width, height: height ?? defaultSize.height)
        let frame = Rect(x: 0, y: 0, width: size.width, height: size.height)
        return Figure(scene: Scene(size: size, title: title, primitives: primitives(in: frame, style: style)))
    }
}
