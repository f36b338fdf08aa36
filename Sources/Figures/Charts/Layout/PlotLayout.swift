import Foundation

/// Everything a chart with two axes declares before layout.
struct PlotSpec {
    enum FrameStyle {
        /// Left and bottom axis lines only.
        case spines
        /// A full rectangle around the plot area.
        case box
    }

    var title: String
    var x: AxisSpec
    var y: AxisSpec
    var legend: Legend?
    var colorBar: ColorBar?
    /// Equal data units per point on both axes (arrow plots, square heatmap cells).
    var equalAspect = false
    var frameStyle = FrameStyle.spines
    /// Small grey lines under the chart, e.g. how many values were skipped.
    var notes: [String] = []
    /// Shown in the middle of the plot area when there is nothing to draw.
    var emptyMessage: String?
}

/// Places title, axes, tick labels and legend or colour bar inside a frame, and maps data
/// coordinates to figure coordinates inside the resulting plot rectangle.
struct PlotLayout {
    let spec: PlotSpec
    let frame: Rect
    let style: ChartStyle
    let plot: Rect
    let x: ResolvedAxis
    let y: ResolvedAxis

    private static let tickLength = 4.0
    private static let tickGap = 3.0

    init(_ spec: PlotSpec, in frame: Rect, style: ChartStyle) {
        self.spec = spec
        self.frame = frame
        self.style = style
        let pad = style.padding
        let titleHeight = spec.title.isEmpty ? 0 : style.titleSize * 1.75
        let noteHeight = spec.notes.isEmpty ? 0 : Double(spec.notes.count) * style.tickLabelSize * 1.3 + 4
        let xLabelHeight = spec.x.label.isEmpty ? 0 : style.labelSize * 1.2 + 5
        let yLabelWidth = spec.y.label.isEmpty ? 0 : style.labelSize * 1.2 + 5
        let accessory = Self.accessoryWidth(spec, height: frame.height * 0.7, style: style)
        let top = frame.minY + pad + titleHeight
        let ticks = Self.tickLength + Self.tickGap

        var xTickHeight = style.tickLabelSize * 1.2
        var overhang = 0.0
        var leftShift = 0.0
        var plot = frame
        var x = ResolvedAxis.resolve(spec.x, length: frame.width / 2, horizontal: true, style: style)
        var y = ResolvedAxis.resolve(spec.y, length: frame.height / 2, horizontal: false, style: style)
        // Tick labels on one axis change the room left for the other; two or three passes settle it.
        for _ in 0..<3 {
            let bottom = frame.maxY - pad - noteHeight - xLabelHeight - xTickHeight - ticks
            let height = max(10, bottom - top)
            y = ResolvedAxis.resolve(spec.y, length: height, horizontal: false, style: style)
            let yTickWidth = y.ticks.map { TextMetrics.reservedWidth($0.label, size: style.tickLabelSize) }.max() ?? 0
            let left = frame.minX + pad + yLabelWidth + yTickWidth + ticks + leftShift
            // The last x tick label is centred on the plot's edge and must not leave the frame.
            let right = frame.maxX - max(pad + accessory, overhang)
            plot = Rect(x: left, y: top, width: max(10, right - left), height: height)
            x = ResolvedAxis.resolve(spec.x, length: plot.width, horizontal: true, style: style)
            if spec.equalAspect {
                plot = Self.equalized(plot, x: x.domain, y: y.domain)
                x = ResolvedAxis.resolve(spec.x, length: plot.width, horizontal: true, style: style)
                y = ResolvedAxis.resolve(spec.y, length: plot.height, horizontal: false, style: style)
            }
            let needed = x.tickLabelHeight(size: style.tickLabelSize)
            let neededOverhang = Self.rightOverhang(of: x, plot: plot, style: style)
            let deficit = Self.leftDeficit(of: x, plot: plot, limit: frame.minX + pad, style: style)
            if abs(needed - xTickHeight) < 0.5, neededOverhang <= overhang + 0.5, deficit < 0.5 { break }
            xTickHeight = needed
            overhang = max(overhang, neededOverhang)
            leftShift += max(0, deficit)
        }
        self.plot = plot
        self.x = x
        self.y = y
    }

    // MARK: Mapping

    func position(x value: Double) -> Double? {
        x.fraction(of: value).map { plot.minX + $0 * plot.width }
    }

    func position(y value: Double) -> Double? {
        y.fraction(of: value).map { plot.maxY - $0 * plot.height }
    }

    func point(_ xValue: Double, _ yValue: Double) -> Point? {
        guard let px = position(x: xValue), let py = position(y: yValue) else { return nil }
        return Point(px, py)
    }

    /// The plot area grown a little so markers on the edge are not cut in half.
    var dataClip: Rect { plot.inset(by: -(style.markerRadius + 2)) }

    // MARK: Drawing

    /// Grid lines, drawn before the data.
    func background() -> [Primitive] {
        var items: [Primitive] = []
        let grid = Stroke(ChartStyle.gridColor, width: 0.8)
        if x.showsGrid && !x.isCategorical {
            for tick in x.ticks {
                if let px = position(x: tick.value) {
                    items.append(.line(from: Point(px, plot.minY), to: Point(px, plot.maxY), stroke: grid))
                }
            }
        }
        if y.showsGrid && !y.isCategorical {
            for tick in y.ticks {
                if let py = position(y: tick.value) {
                    items.append(.line(from: Point(plot.minX, py), to: Point(plot.maxX, py), stroke: grid))
                }
            }
        }
        return items
    }

    /// Axes, ticks, labels, title, legend, colour bar and notes, drawn after the data.
    func foreground() -> [Primitive] {
        var items: [Primitive] = []
        let ink = Stroke(Color.ink, width: 0.8)
        switch spec.frameStyle {
        case .spines:
            items.append(.line(from: Point(plot.minX, plot.maxY), to: Point(plot.maxX, plot.maxY), stroke: ink))
            items.append(.line(from: Point(plot.minX, plot.minY), to: Point(plot.minX, plot.maxY), stroke: ink))
        case .box:
            items.append(.rect(plot, fill: nil, stroke: ink))
        }
        items += xTicks(stroke: ink) + yTicks(stroke: ink)
        items += axisLabels() + title() + accessories() + notes()
        if let message = spec.emptyMessage {
            items.append(.text(message, at: Point(plot.midX, plot.midY),
                               style: TextStyle(size: style.labelSize, color: ChartStyle.mutedText,
                                                anchor: .middle, alignment: .middle)))
        }
        return items
    }

    /// Background, then `content` clipped to the plot area, then the foreground.
    func compose(_ content: [Primitive], clip: Rect? = nil) -> [Primitive] {
        background() + [.group(content, clip: clip ?? dataClip)] + foreground()
    }

    private func xTicks(stroke: Stroke) -> [Primitive] {
        var items: [Primitive] = []
        let size = style.tickLabelSize
        let labelY = plot.maxY + Self.tickLength + Self.tickGap
        for tick in x.ticks {
            guard let px = position(x: tick.value) else { continue }
            items.append(.line(from: Point(px, plot.maxY), to: Point(px, plot.maxY + Self.tickLength), stroke: stroke))
            if x.labelRotation == 0 {
                items.append(.text(tick.label, at: Point(px, labelY),
                                   style: TextStyle(size: size, anchor: .middle, alignment: .top)))
            } else {
                items.append(.text(tick.label, at: Point(px + size * 0.25, labelY + size * 0.2),
                                   style: TextStyle(size: size, anchor: .end, alignment: .middle,
                                                    rotation: x.labelRotation)))
            }
        }
        let minor = Stroke(Color.ink, width: 0.6)
        for value in x.minorTicks {
            if let px = position(x: value), px >= plot.minX - 0.01, px <= plot.maxX + 0.01 {
                items.append(.line(from: Point(px, plot.maxY), to: Point(px, plot.maxY + Self.tickLength * 0.6), stroke: minor))
            }
        }
        return items
    }

    private func yTicks(stroke: Stroke) -> [Primitive] {
        var items: [Primitive] = []
        let size = style.tickLabelSize
        for tick in y.ticks {
            guard let py = position(y: tick.value) else { continue }
            items.append(.line(from: Point(plot.minX - Self.tickLength, py), to: Point(plot.minX, py), stroke: stroke))
            items.append(.text(tick.label, at: Point(plot.minX - Self.tickLength - Self.tickGap, py),
                               style: TextStyle(size: size, anchor: .end, alignment: .middle)))
        }
        let minor = Stroke(Color.ink, width: 0.6)
        for value in y.minorTicks {
            if let py = position(y: value), py >= plot.minY - 0.01, py <= plot.maxY + 0.01 {
                items.append(.line(from: Point(plot.minX - Self.tickLength * 0.6, py), to: Point(plot.minX, py), stroke: minor))
            }
        }
        return items
    }

    private func axisLabels() -> [Primitive] {
        var items: [Primitive] = []
        if !x.label.isEmpty {
            let top = plot.maxY + Self.tickLength + Self.tickGap + x.tickLabelHeight(size: style.tickLabelSize) + 4
            let size = fitted(x.label, size: style.labelSize, width: frame.width - 2 * style.padding)
            items.append(.text(x.label, at: Point(plot.midX, top),
                               style: TextStyle(size: size, anchor: .middle, alignment: .top)))
        }
        if !y.label.isEmpty {
            let size = fitted(y.label, size: style.labelSize, width: plot.height + 20)
            let tickWidth = y.ticks.map { TextMetrics.reservedWidth($0.label, size: style.tickLabelSize) }.max() ?? 0
            let left = max(frame.minX + style.padding,
                           plot.minX - Self.tickLength - Self.tickGap - tickWidth - 5 - style.labelSize * 1.2)
            items.append(.text(y.label, at: Point(left, plot.midY),
                               style: TextStyle(size: size, anchor: .middle, alignment: .top, rotation: -90)))
        }
        return items
    }

    private func title() -> [Primitive] {
        guard !spec.title.isEmpty else { return [] }
        let available = frame.width - 2 * style.padding
        let size = fitted(spec.title, size: style.titleSize, width: available, weight: .bold)
        let width = TextMetrics.reservedWidth(spec.title, size: size, weight: .bold)
        // Centred over the plot area like matplotlib, but kept inside the frame.
        let center = min(max(plot.midX, frame.minX + style.padding + width / 2), frame.maxX - style.padding - width / 2)
        return [.text(spec.title, at: Point(center, frame.minY + style.padding + style.titleSize * 0.15),
                      style: TextStyle(size: size, weight: .bold, anchor: .middle, alignment: .top))]
    }

    private func accessories() -> [Primitive] {
        var items: [Primitive] = []
        let left = plot.maxX + 16
        var top = plot.minY
        var available = plot.height
        if let legend = spec.legend, !legend.entries.isEmpty {
            let legendHeight = spec.colorBar == nil ? available : available * 0.45
            items += legend.primitives(at: Point(left, top), maxHeight: legendHeight, style: style)
            let used = min(legendHeight, Double(legend.entries.count + (legend.title.isEmpty ? 0 : 1)) * style.legendSize * 1.55)
            top += used + 10
            available -= used + 10
        }
        if let colorBar = spec.colorBar, available > 20 {
            items += colorBar.primitives(in: Rect(x: left, y: top, width: ColorBar.barWidth, height: available), style: style)
        }
        return items
    }

    private func notes() -> [Primitive] {
        let size = style.tickLabelSize * 0.95
        return spec.notes.enumerated().map { index, note in
            .text(note, at: Point(frame.minX + style.padding,
                                  frame.maxY - style.padding - Double(spec.notes.count - 1 - index) * size * 1.3),
                  style: TextStyle(size: size, color: ChartStyle.mutedText, alignment: .bottom))
        }
    }

    /// Shrinks a font size so the text fits in `width` (down to 60 %; longer text is left to overflow).
    private func fitted(_ text: String, size: Double, width: Double, weight: TextStyle.Weight = .regular) -> Double {
        let natural = TextMetrics.reservedWidth(text, size: size, weight: weight)
        guard natural > width, natural > 0 else { return size }
        return max(size * 0.6, size * width / natural)
    }

    /// How far the last horizontal tick label reaches past the plot's right edge, plus a small gap.
    private static func rightOverhang(of axis: ResolvedAxis, plot: Rect, style: ChartStyle) -> Double {
        guard axis.labelRotation == 0, let last = axis.ticks.last, let t = axis.fraction(of: last.value) else { return 0 }
        let reach = plot.minX + t * plot.width + TextMetrics.reservedWidth(last.label, size: style.tickLabelSize) / 2
        return max(0, reach - plot.maxX) + 2
    }

    /// How far slanted x tick labels reach left of `limit` (the frame's padded edge).
    private static func leftDeficit(of axis: ResolvedAxis, plot: Rect, limit: Double, style: ChartStyle) -> Double {
        guard axis.labelRotation != 0 else { return 0 }
        let cosine = cos(abs(axis.labelRotation) * .pi / 180)
        var reach = Double.infinity
        for tick in axis.ticks {
            guard let t = axis.fraction(of: tick.value) else { continue }
            let width = TextMetrics.reservedWidth(tick.label, size: style.tickLabelSize)
            reach = min(reach, plot.minX + t * plot.width - width * cosine)
        }
        return reach.isFinite ? limit - reach : 0
    }

    private static func accessoryWidth(_ spec: PlotSpec, height: Double, style: ChartStyle) -> Double {
        var width = 0.0
        if let legend = spec.legend, !legend.entries.isEmpty {
            width = max(width, legend.width(style: style))
        }
        if let colorBar = spec.colorBar {
            width = max(width, colorBar.width(height: height, style: style))
        }
        return width > 0 ? width + 16 : 0
    }

    /// The largest rectangle inside `rect`, centred, with equal units on both axes.
    private static func equalized(_ rect: Rect, x: ClosedRange<Double>, y: ClosedRange<Double>) -> Rect {
        let xSpan = x.upperBound - x.lowerBound, ySpan = y.upperBound - y.lowerBound
        guard xSpan > 0, ySpan > 0 else { return rect }
        let unit = min(rect.width / xSpan, rect.height / ySpan)
        let width = xSpan * unit, height = ySpan * unit
        return Rect(x: rect.minX + (rect.width - width) / 2, y: rect.minY + (rect.height - height) / 2,
                    width: width, height: height)
    }
}
