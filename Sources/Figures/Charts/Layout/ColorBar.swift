/// A vertical colour key with ticks, for charts where colour encodes a number.
struct ColorBar {
    var scale: ColorScale
    var domain: ClosedRange<Double>
    var label: String

    static let barWidth = 12.0

    func ticks(height: Double) -> (values: [Double], labels: [String]) {
        let result = Ticks.inside(domain, targetCount: max(2, Int(height / 45)))
        return (result.major, NumberFormat.ticks(result.major, step: result.step))
    }

    func width(height: Double, style: ChartStyle) -> Double {
        let labels = ticks(height: height).labels.map { TextMetrics.reservedWidth($0, size: style.tickLabelSize) }.max() ?? 0
        return Self.barWidth + 7 + labels + (label.isEmpty ? 0 : 6 + style.labelSize * 1.2)
    }

    func primitives(in rect: Rect, style: ChartStyle) -> [Primitive] {
        var items: [Primitive] = []
        let bar = Rect(x: rect.minX, y: rect.minY, width: Self.barWidth, height: rect.height)
        // A stack of thin slices draws identically in SVG and PNG, unlike an SVG gradient.
        let slices = max(2, min(128, Int(bar.height / 2)))
        let sliceHeight = bar.height / Double(slices)
        let span = domain.upperBound - domain.lowerBound
        for index in 0..<slices {
            let value = domain.lowerBound + span * (Double(index) + 0.5) / Double(slices)
            let top = bar.maxY - Double(index + 1) * sliceHeight
            // Slices overlap slightly so anti-aliasing leaves no hairline seams.
            items.append(.rect(Rect(x: bar.minX, y: top - 0.3, width: bar.width, height: sliceHeight + 0.6),
                               fill: scale.color(for: value, in: domain)))
        }
        items.append(.rect(bar, fill: nil, stroke: Stroke(Color.ink, width: 0.6)))
        let (values, labels) = ticks(height: bar.height)
        let size = style.tickLabelSize
        var widest = 0.0
        for (value, text) in zip(values, labels) {
            let y = bar.maxY - (span > 0 ? (value - domain.lowerBound) / span : 0.5) * bar.height
            items.append(.line(from: Point(bar.maxX, y), to: Point(bar.maxX + 3, y), stroke: Stroke(Color.ink, width: 0.6)))
            items.append(.text(text, at: Point(bar.maxX + 5, y), style: TextStyle(size: size, alignment: .middle)))
            widest = max(widest, TextMetrics.reservedWidth(text, size: size))
        }
        if !label.isEmpty {
            items.append(.text(label, at: Point(bar.maxX + 7 + widest + 5, bar.midY),
                               style: TextStyle(size: style.labelSize, anchor: .middle, alignment: .top, rotation: -90)))
        }
        return items
    }
}
