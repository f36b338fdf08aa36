import Foundation

/// A grid of charts under one title, each panel keeping its own title
/// (e.g. one arrow plot per model instance, titled with its sparsity).
public struct SmallMultiples: Chart {
    public var title: String
    public var panels: [any Chart]
    public var columns: Int
    /// Size of each panel in the default figure size.
    public var panelSize: Size
    /// Style for the panels; the overall title uses the figure's style.
    public var panelStyle: ChartStyle

    /// - Parameter columns: `nil` chooses a wide arrangement (e.g. 5 × 2 for ten panels).
    public init(title: String, panels: [any Chart], columns: Int? = nil,
                panelSize: Size = Size(width: 250, height: 230), panelStyle: ChartStyle = .compact) {
        self.title = title
        self.panels = panels
        self.columns = max(1, columns ?? Self.defaultColumns(for: panels.count))
        self.panelSize = panelSize
        self.panelStyle = panelStyle
    }

    static func defaultColumns(for count: Int) -> Int {
        switch count {
        case ...4: return max(1, count)
        case 5...6: return 3
        case 7...8: return 4
        case 9...10: return 5
        case 11...12: return 4
        default: return Int((Double(count) * 1.5).squareRoot().rounded(.up))
        }
    }

    private var rows: Int { max(1, (panels.count + columns - 1) / columns) }

    private func titleHeight(_ style: ChartStyle) -> Double {
        title.isEmpty ? 0 : style.titleSize * 1.9
    }

    public var defaultSize: Size {
        let style = ChartStyle.standard
        return Size(width: Double(columns) * panelSize.width + 2 * style.padding,
                    height: Double(rows) * panelSize.height + titleHeight(style) + 2 * style.padding)
    }

    public func primitives(in frame: Rect, style: ChartStyle) -> [Primitive] {
        var items: [Primitive] = []
        let area = frame.inset(top: style.padding + titleHeight(style), left: style.padding,
                               bottom: style.padding, right: style.padding)
        if !title.isEmpty {
            let size = min(style.titleSize * 1.05, style.titleSize * 1.05 * (frame.width - 2 * style.padding)
                / max(1, TextMetrics.reservedWidth(title, size: style.titleSize * 1.05, weight: .bold)))
            items.append(.text(title, at: Point(frame.midX, frame.minY + style.padding + 2),
                               style: TextStyle(size: size, weight: .bold, anchor: .middle, alignment: .top)))
        }
        if panels.isEmpty {
            items.append(.text("No panels", at: Point(area.midX, area.midY),
                               style: TextStyle(size: style.labelSize, color: ChartStyle.mutedText, anchor: .middle, alignment: .middle)))
            return items
        }
        let width = area.width / Double(columns), height = area.height / Double(rows)
        for (index, panel) in panels.enumerated() {
            let cell = Rect(x: area.minX + Double(index % columns) * width, y: area.minY + Double(index / columns) * height,
                            width: width, height: height)
            items.append(.group(panel.primitives(in: cell, style: panelStyle)))
        }
        return items
    }
}
