/// One line of a ``LinePlot``.
public struct LineSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// `nil` takes the next palette colour.
    public var color: Color?
    public var showsMarkers: Bool
    public var isDashed: Bool

    public init(name: String = "", x: some Sequence<some BinaryFloatingPoint>, y: some Sequence<some BinaryFloatingPoint>,
                color: Color? = nil, showsMarkers: Bool = false, isDashed: Bool = false) {
        self.name = name
        self.x = x.map { Double($0) }
        self.y = y.map { Double($0) }
        self.color = color
        self.showsMarkers = showsMarkers
        self.isDashed = isDashed
    }

    /// A series plotted against its index 0, 1, 2, …
    public init(name: String = "", y: some Sequence<some BinaryFloatingPoint>, color: Color? = nil,
                showsMarkers: Bool = false, isDashed: Bool = false) {
        let values = y.map { Double($0) }
        self.init(name: name, x: values.indices.map { Double($0) }, y: values, color: color,
                  showsMarkers: showsMarkers, isDashed: isDashed)
    }
}

/// Lines of y against x, e.g. loss curves or a quantity swept over sparsity.
///
/// Non-finite points (and non-positive ones on log axes) break the line instead of being joined over.
public struct LinePlot: Chart {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [LineSeries]
    public var xScale: AxisScale
    public var yScale: AxisScale
    public var referenceLines: [ReferenceLine]

    public init(title: String, xLabel: String = "", yLabel: String = "", series: [LineSeries],
                xScale: AxisScale = .linear, yScale: AxisScale = .linear, referenceLines: [ReferenceLine] = []) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.xScale = xScale
        self.yScale = yScale
        self.referenceLines = referenceLines
    }

    public func primitives(in frame: Rect, style: ChartStyle) -> [Primitive] {
        let colors = series.enumerated().map { $0.element.color ?? Palette.categorical($0.offset) }
        let data = series.map { DrawablePairs(x: $0.x, y: $0.y, xScale: xScale, yScale: yScale) }
        let skipped = data.map(\.skipped).reduce(0, +)
        let isEmpty = data.allSatisfy(\.pairs.isEmpty)

        var spec = PlotSpec(
            title: title,
            x: AxisSpec(label: xLabel, kind: .numeric(xScale, data: data.flatMap { $0.pairs.map(\.x) } + referenceLines.verticalValues)),
            y: AxisSpec(label: yLabel, kind: .numeric(yScale, data: data.flatMap { $0.pairs.map(\.y) } + referenceLines.horizontalValues)))
        spec.notes = DrawablePairs.note(skipped: skipped, logAxis: xScale == .log10 || yScale == .log10)
        spec.emptyMessage = isEmpty ? DrawablePairs.emptyMessage : nil
        let named = series.filter { !$0.name.isEmpty }
        if series.count > 1, !named.isEmpty {
            spec.legend = Legend(title: "", entries: series.enumerated().map { index, line in
                Legend.Entry(label: line.name, swatch: .line(colors[index], dash: line.isDashed ? [5, 3] : [],
                                                             marker: line.showsMarkers))
            })
        }
        let layout = PlotLayout(spec, in: frame, style: style)

        var content: [Primitive] = referenceLines.primitives(in: layout)
        for (index, line) in series.enumerated() {
            let stroke = Stroke(colors[index], width: style.lineWidth, dash: line.isDashed ? [5, 3] : [], cap: .round)
            for run in runs(of: data[index], in: layout) {
                if run.count == 1 {
                    content.append(.circle(center: run[0], radius: style.lineWidth, fill: colors[index]))
                } else {
                    content.append(.polyline(run, stroke: stroke))
                }
            }
            if line.showsMarkers {
                for pair in data[index].pairs {
                    if let point = layout.point(pair.x, pair.y) {
                        content.append(.circle(center: point, radius: style.markerRadius, fill: colors[index],
                                               stroke: Stroke(.white, width: 0.6)))
                    }
                }
            }
        }
        return layout.compose(content)
    }

    /// Consecutive drawable points; a gap in the data (a skipped index) starts a new run.
    private func runs(of data: DrawablePairs, in layout: PlotLayout) -> [[Point]] {
        var runs: [[Point]] = []
        var current: [Point] = []
        var previousIndex = -2
        for pair in data.pairs {
            guard let point = layout.point(pair.x, pair.y) else { continue }
            if pair.index != previousIndex + 1, !current.isEmpty {
                runs.append(current)
                current = []
            }
            current.append(point)
            previousIndex = pair.index
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }
}
