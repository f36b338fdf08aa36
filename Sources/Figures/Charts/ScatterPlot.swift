import Foundation

/// Points of y against x, coloured by a value (with a colour bar) or by category (with a legend).
public struct ScatterPlot: Chart {
    public var title: String
    public var x: [Double]
    public var y: [Double]
    public var xLabel: String
    public var yLabel: String
    public var color: Coloring
    public var xScale: AxisScale
    public var yScale: AxisScale
    public var referenceLines: [ReferenceLine]
    /// Draws the line y = x, e.g. to compare predictions with targets.
    public var showsDiagonal: Bool
    /// Marker radius in points; `nil` uses the style's.
    public var markerRadius: Double?

    public init(title: String, x: some Sequence<some BinaryFloatingPoint>, y: some Sequence<some BinaryFloatingPoint>,
                xLabel: String = "", yLabel: String = "", color: Coloring = .standard,
                xScale: AxisScale = .linear, yScale: AxisScale = .linear,
                referenceLines: [ReferenceLine] = [], showsDiagonal: Bool = false, markerRadius: Double? = nil) {
        self.title = title
        self.x = x.map { Double($0) }
        self.y = y.map { Double($0) }
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.color = color
        self.xScale = xScale
        self.yScale = yScale
        self.referenceLines = referenceLines
        self.showsDiagonal = showsDiagonal
        self.markerRadius = markerRadius
    }

    public func primitives(in frame: Rect, style: ChartStyle) -> [Primitive] {
        let data = DrawablePairs(x: x, y: y, xScale: xScale, yScale: yScale)
        let coloring = color.resolve(count: max(x.count, y.count)) { .marker($0) }
        let radius = markerRadius ?? style.markerRadius

        var spec = PlotSpec(
            title: title,
            x: AxisSpec(label: xLabel, kind: .numeric(xScale, data: data.pairs.map(\.x) + referenceLines.verticalValues,
                                                      margin: 0.025)),
            y: AxisSpec(label: yLabel, kind: .numeric(yScale, data: data.pairs.map(\.y) + referenceLines.horizontalValues,
                                                      margin: 0.025)))
        spec.legend = coloring.legend
        spec.colorBar = coloring.colorBar
        spec.notes = DrawablePairs.note(skipped: data.skipped, logAxis: xScale == .log10 || yScale == .log10)
        spec.emptyMessage = data.pairs.isEmpty ? DrawablePairs.emptyMessage : nil
        let layout = PlotLayout(spec, in: frame, style: style)

        var content = referenceLines.primitives(in: layout)
        if showsDiagonal {
            content += diagonal(in: layout)
        }
        let edge = Stroke(.white, width: radius > 2 ? 0.5 : 0.25)
        for pair in data.pairs {
            guard let point = layout.point(pair.x, pair.y) else { continue }
            content.append(.circle(center: point, radius: radius, fill: coloring.colors[pair.index].withAlpha(0.9), stroke: edge))
        }
        return layout.compose(content)
    }

    private func diagonal(in layout: PlotLayout) -> [Primitive] {
        let low = max(layout.x.domain.lowerBound, layout.y.domain.lowerBound)
        let high = min(layout.x.domain.upperBound, layout.y.domain.upperBound)
        guard high > low else { return [] }
        let logarithmic = xScale == .log10 || yScale == .log10
        // Sampled, because y = x is curved when only one axis is logarithmic.
        let samples = logarithmic ? 64 : 1
        let points = (0...samples).compactMap { step -> Point? in
            let t = Double(step) / Double(samples)
            let value = logarithmic && low > 0 ? low * pow(high / low, t) : low + (high - low) * t
            return layout.point(value, value)
        }
        guard points.count > 1 else { return [] }
        return [.polyline(points, stroke: Stroke(ChartStyle.referenceColor, width: 1, dash: [4, 3]))]
    }
}
