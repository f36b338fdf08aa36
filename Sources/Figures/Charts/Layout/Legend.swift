/// A key placed to the right of the plot area, so it never covers data.
struct Legend {
    struct Entry {
        enum Swatch {
            case line(Color, dash: [Double], marker: Bool)
            case marker(Color)
            case box(Color)
        }

        var label: String
        var swatch: Swatch
    }

    var title: String
    var entries: [Entry]

    private static let swatchWidth = 20.0

    func width(style: ChartStyle) -> Double {
        let size = style.legendSize
        let labels = entries.map { TextMetrics.reservedWidth($0.label, size: size) }.max() ?? 0
        let title = TextMetrics.reservedWidth(self.title, size: size, weight: .bold)
        return max(Self.swatchWidth + 6 + labels, title)
    }

    /// Draws from `origin` (top left) downwards, listing only as many entries as fit in `maxHeight`.
    func primitives(at origin: Point, maxHeight: Double, style: ChartStyle) -> [Primitive] {
        let size = style.legendSize
        let row = size * 1.55
        var items: [Primitive] = []
        var y = origin.y
        if !title.isEmpty {
            items.append(.text(title, at: Point(origin.x, y), style: TextStyle(size: size, weight: .bold, alignment: .top)))
            y += row
        }
        let capacity = max(1, Int((origin.y + maxHeight - y) / row))
        let shown = entries.count > capacity ? capacity - 1 : entries.count
        for entry in entries.prefix(shown) {
            let middle = y + row / 2 - 1
            items += swatch(entry.swatch, x: origin.x, y: middle, style: style)
            items.append(.text(entry.label, at: Point(origin.x + Self.swatchWidth + 6, middle),
                               style: TextStyle(size: size, alignment: .middle)))
            y += row
        }
        if shown < entries.count {
            items.append(.text("+\(entries.count - shown) more", at: Point(origin.x, y + row / 2 - 1),
                               style: TextStyle(size: size, color: ChartStyle.mutedText, alignment: .middle)))
        }
        return items
    }

    private func swatch(_ swatch: Entry.Swatch, x: Double, y: Double, style: ChartStyle) -> [Primitive] {
        let w = Self.swatchWidth
        switch swatch {
        case let .line(color, dash, marker):
            var items: [Primitive] = [.line(from: Point(x, y), to: Point(x + w, y),
                                            stroke: Stroke(color, width: style.lineWidth, dash: dash))]
            if marker {
                items.append(.circle(center: Point(x + w / 2, y), radius: style.markerRadius, fill: color))
            }
            return items
        case let .marker(color):
            return [.circle(center: Point(x + w / 2, y), radius: style.markerRadius + 0.5, fill: color)]
        case let .box(color):
            let side = style.legendSize * 0.95
            return [.rect(Rect(x: x + (w - side) / 2, y: y - side / 2, width: side, height: side), fill: color,
                          stroke: Stroke(Color.black.withAlpha(0.25), width: 0.5))]
        }
    }
}
