import Foundation

/// Vectors drawn as arrows from the origin with equal scales on both axes, e.g. the columns
/// of a 2 × n weight matrix showing how n features are packed into two dimensions.
public struct ArrowPlot: Chart {
    public var title: String
    public var x: [Double]
    public var y: [Double]
    /// Drawn just beyond each arrow's tip; empty for none.
    public var labels: [String]
    public var color: Coloring
    public var showsUnitCircle: Bool
    /// Half-width of the square view; `nil` fits the longest arrow (and the unit circle).
    public var limit: Double?
    public var xLabel: String
    public var yLabel: String

    public init(title: String, x: some Sequence<some BinaryFloatingPoint>, y: some Sequence<some BinaryFloatingPoint>,
                labels: [String] = [], color: Coloring = .standard, showsUnitCircle: Bool = true,
                limit: Double? = nil, xLabel: String = "", yLabel: String = "") {
        self.title = title
        self.x = x.map { Double($0) }
        self.y = y.map { Double($0) }
        self.labels = labels
        self.color = color
        self.showsUnitCircle = showsUnitCircle
        self.limit = limit
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    public var defaultSize: Size { Size(width: 480, height: 440) }

    public func primitives(in frame: Rect, style: ChartStyle) -> [Primitive] {
        let data = DrawablePairs(x: x, y: y)
        let coloring = color.resolve(count: max(x.count, y.count)) { .line($0, dash: [], marker: false) }
        let longest = data.pairs.map { hypot($0.x, $0.y) }.max() ?? 0
        let fitted = max(longest, showsUnitCircle ? 1 : 0) * 1.15
        let extent = limit.flatMap { $0.isFinite && $0 > 0 ? $0 : nil } ?? (fitted > 0 ? fitted : 1)

        // The same tick spacing on both axes, so equal units also look equal.
        var spec = PlotSpec(title: title,
                            x: AxisSpec(label: xLabel, kind: .numeric(.linear, data: [], fixed: -extent...extent), tickSpacing: 70),
                            y: AxisSpec(label: yLabel, kind: .numeric(.linear, data: [], fixed: -extent...extent), tickSpacing: 70))
        spec.equalAspect = true
        spec.frameStyle = .box
        spec.legend = coloring.legend
        spec.colorBar = coloring.colorBar
        spec.notes = DrawablePairs.note(skipped: data.skipped, noun: "vector", logAxis: false)
        spec.emptyMessage = data.pairs.isEmpty ? DrawablePairs.emptyMessage : nil
        let layout = PlotLayout(spec, in: frame, style: style)
        guard let origin = layout.point(0, 0) else { return layout.compose([]) }

        let faint = Stroke(Color(hex: 0xBBBBBB), width: 0.8)
        var content: [Primitive] = [
            .line(from: Point(layout.plot.minX, origin.y), to: Point(layout.plot.maxX, origin.y), stroke: faint),
            .line(from: Point(origin.x, layout.plot.minY), to: Point(origin.x, layout.plot.maxY), stroke: faint),
        ]
        if showsUnitCircle, let edge = layout.position(x: 1) {
            content.append(.circle(center: origin, radius: edge - origin.x, fill: nil,
                                   stroke: Stroke(Color(hex: 0x999999), width: 0.9, dash: [4, 3])))
        }
        let head = style.lineWidth * 4.5
        var texts: [Primitive] = []
        for pair in data.pairs {
            guard let tip = layout.point(pair.x, pair.y) else { continue }
            let color = coloring.colors[pair.index]
            let dx = tip.x - origin.x, dy = tip.y - origin.y
            let length = hypot(dx, dy)
            if length < 0.5 {
                content.append(.circle(center: origin, radius: style.lineWidth * 1.2, fill: color))
            } else {
                content.append(.arrow(from: origin, to: tip, stroke: Stroke(color, width: style.lineWidth),
                                      headLength: head, headWidth: head * 0.8))
            }
            if pair.index < labels.count, !labels[pair.index].isEmpty {
                let ux = length > 0.5 ? dx / length : 0, uy = length > 0.5 ? dy / length : -1
                let gap = style.tickLabelSize * 0.6
                let anchor: TextStyle.Anchor = ux > 0.35 ? .start : (ux < -0.35 ? .end : .middle)
                let alignment: TextStyle.Alignment = uy > 0.35 ? .top : (uy < -0.35 ? .baseline : .middle)
                texts.append(.text(labels[pair.index], at: Point(tip.x + ux * gap, tip.y + uy * gap),
                                   style: TextStyle(size: style.tickLabelSize, color: color.mixed(with: .ink, fraction: 0.35),
                                                    anchor: anchor, alignment: alignment)))
            }
        }
        return layout.compose(content + texts, clip: layout.plot)
    }
}
