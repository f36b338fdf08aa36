/// One bar per labelled value, optionally coloured by another value with a colour bar.
public struct BarChart: Chart {
    public enum Orientation: Sendable, Hashable {
        /// Bars grow upwards from a horizontal category axis.
        case vertical
        /// Bars grow rightwards; the first label is at the top.
        case horizontal
    }

    public var title: String
    public var labels: [String]
    public var values: [Double]
    public var categoryLabel: String
    public var valueLabel: String
    public var color: Coloring
    public var orientation: Orientation
    /// Lines across the value axis (e.g. a threshold); lines on the category axis are ignored.
    public var referenceLines: [ReferenceLine]

    /// - Parameter labels: One per value; missing labels are numbered from 0.
    public init(title: String, labels: [String] = [], values: some Sequence<some BinaryFloatingPoint>,
                categoryLabel: String = "", valueLabel: String = "", color: Coloring = .standard,
                orientation: Orientation = .vertical, referenceLines: [ReferenceLine] = []) {
        self.title = title
        self.values = values.map { Double($0) }
        self.labels = AxisSpec.categoryLabels(labels, count: self.values.count)
        self.categoryLabel = categoryLabel
        self.valueLabel = valueLabel
        self.color = color
        self.orientation = orientation
        self.referenceLines = referenceLines
    }

    public func primitives(in frame: Rect, style: ChartStyle) -> [Primitive] {
        let coloring = color.resolve(count: values.count) { .box($0) }
        let vertical = orientation == .vertical
        let valueLines = referenceLines.filter { ($0.orientation == .horizontal) == vertical }
        let finite = values.filter(\.isFinite)
        let valueAxis = AxisSpec(label: valueLabel,
                                 kind: .numeric(.linear, data: finite + valueLines.map(\.value), includeZero: true))
        let categoryAxis = AxisSpec(label: categoryLabel, kind: .categorical(labels, reversed: !vertical), showsGrid: false)
        var spec = PlotSpec(title: title, x: vertical ? categoryAxis : valueAxis, y: vertical ? valueAxis : categoryAxis)
        spec.legend = coloring.legend
        spec.colorBar = coloring.colorBar
        spec.notes = DrawablePairs.note(skipped: values.count - finite.count, noun: "bar", logAxis: false)
        spec.emptyMessage = finite.isEmpty ? DrawablePairs.emptyMessage : nil
        let layout = PlotLayout(spec, in: frame, style: style)

        var content: [Primitive] = []
        let categories = layout.spec.x.kind.isCategorical ? layout.x : layout.y
        for (index, value) in values.enumerated() where value.isFinite {
            guard let start = categories.fraction(of: Double(index) + 0.1),
                  let end = categories.fraction(of: Double(index) + 0.9) else { continue }
            let fill = coloring.colors[index]
            // Near-white bars (e.g. values near zero on a diverging scale) would vanish without an outline.
            let edge: Stroke? = fill.luminance > 0.8 ? Stroke(Color(hex: 0xA0A0A0), width: 0.6) : nil
            if vertical {
                guard let zero = layout.position(y: 0), let top = layout.position(y: value) else { continue }
                let x0 = layout.plot.minX + start * layout.plot.width, x1 = layout.plot.minX + end * layout.plot.width
                content.append(.rect(Rect(x: min(x0, x1), y: min(zero, top), width: abs(x1 - x0), height: abs(zero - top)), fill: fill, stroke: edge))
            } else {
                guard let zero = layout.position(x: 0), let tip = layout.position(x: value) else { continue }
                let y0 = layout.plot.maxY - start * layout.plot.height, y1 = layout.plot.maxY - end * layout.plot.height
                content.append(.rect(Rect(x: min(zero, tip), y: min(y0, y1), width: abs(tip - zero), height: abs(y1 - y0)), fill: fill, stroke: edge))
            }
        }
        // A zero line makes negative bars read as negative.
        if finite.contains(where: { $0 < 0 }) {
            if vertical, let zero = layout.position(y: 0) {
                content.append(.line(from: Point(layout.plot.minX, zero), to: Point(layout.plot.maxX, zero), stroke: Stroke(.ink, width: 0.8)))
            } else if !vertical, let zero = layout.position(x: 0) {
                content.append(.line(from: Point(zero, layout.plot.minY), to: Point(zero, layout.plot.maxY), stroke: Stroke(.ink, width: 0.8)))
            }
        }
        content += valueLines.primitives(in: layout)
        return layout.compose(content, clip: layout.plot)
    }
}

extension AxisSpec.Kind {
    var isCategorical: Bool {
        if case .categorical = self { return true }
        return false
    }
}
