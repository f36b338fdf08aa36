/// A dashed horizontal or vertical line marking a value, with an optional label.
public struct ReferenceLine: Sendable, Hashable {
    public enum Orientation: Sendable, Hashable {
        case horizontal, vertical
    }

    public var orientation: Orientation
    public var value: Double
    public var label: String
    public var color: Color

    public init(_ orientation: Orientation, at value: Double, label: String = "", color: Color = Color(hex: 0x555555)) {
        self.orientation = orientation
        self.value = value
        self.label = label
        self.color = color
    }

    /// A line across the plot at height `y`.
    public static func horizontal(at y: Double, label: String = "", color: Color = Color(hex: 0x555555)) -> ReferenceLine {
        ReferenceLine(.horizontal, at: y, label: label, color: color)
    }

    /// A line up the plot at position `x`.
    public static func vertical(at x: Double, label: String = "", color: Color = Color(hex: 0x555555)) -> ReferenceLine {
        ReferenceLine(.vertical, at: x, label: label, color: color)
    }
}

extension [ReferenceLine] {
    /// A translucent white patch that keeps a label readable over data.
    private static func halo(_ rect: Rect) -> Primitive {
        .rect(rect, fill: Color.white.withAlpha(0.75))
    }

    var horizontalValues: [Double] { filter { $0.orientation == .horizontal }.map(\.value) }
    var verticalValues: [Double] { filter { $0.orientation == .vertical }.map(\.value) }

    /// Lines and their labels; labels sit inside the plot at the top or right end of the line.
    func primitives(in layout: PlotLayout) -> [Primitive] {
        var items: [Primitive] = []
        let plot = layout.plot
        let size = layout.style.tickLabelSize
        for line in self {
            let stroke = Stroke(line.color, width: 1.1, dash: [5, 3])
            let text = TextStyle(size: size, color: line.color, anchor: .end)
            switch line.orientation {
            case .horizontal:
                guard let y = layout.position(y: line.value), y >= plot.minY - 0.5, y <= plot.maxY + 0.5 else { continue }
                items.append(.line(from: Point(plot.minX, y), to: Point(plot.maxX, y), stroke: stroke))
                if !line.label.isEmpty {
                    let width = TextMetrics.reservedWidth(line.label, size: size)
                    items.append(Self.halo(Rect(x: plot.maxX - 6 - width, y: y - 3 - size * 0.85, width: width + 4, height: size * 1.05)))
                    items.append(.text(line.label, at: Point(plot.maxX - 4, y - 3), style: text))
                }
            case .vertical:
                guard let x = layout.position(x: line.value), x >= plot.minX - 0.5, x <= plot.maxX + 0.5 else { continue }
                items.append(.line(from: Point(x, plot.minY), to: Point(x, plot.maxY), stroke: stroke))
                if !line.label.isEmpty {
                    let width = TextMetrics.reservedWidth(line.label, size: size)
                    items.append(Self.halo(Rect(x: x - 3 - size * 0.85, y: plot.minY + 2, width: size * 1.05, height: width + 4)))
                    var rotated = text
                    rotated.rotation = -90
                    items.append(.text(line.label, at: Point(x - 3, plot.minY + 4), style: rotated))
                }
            }
        }
        return items
    }
}
