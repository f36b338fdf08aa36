/// A grid of cells coloured by category with a legend, e.g. a phase diagram of which
/// regime a model lands in for each combination of two swept parameters.
///
/// `cells[row][column]` indexes `categories`; row 0 is drawn at the bottom so that the
/// vertical axis increases upwards. Indices outside `categories` leave the cell blank.
public struct CategoricalGrid: Chart {
    public var title: String
    public var categories: [String]
    public var cells: [[Int]]
    /// Tick labels under each column (e.g. the swept values, formatted by the caller).
    public var columnLabels: [String]
    /// Tick labels beside each row, bottom row first.
    public var rowLabels: [String]
    public var xLabel: String
    public var yLabel: String
    /// One colour per category; `nil` uses the categorical palette.
    public var colors: [Color]?
    public var legendTitle: String
    public var squareCells: Bool

    public init(title: String, categories: [String], cells: [[Int]], columnLabels: [String] = [],
                rowLabels: [String] = [], xLabel: String = "", yLabel: String = "", colors: [Color]? = nil,
                legendTitle: String = "", squareCells: Bool = false) {
        self.title = title
        self.categories = categories
        self.cells = cells
        self.columnLabels = AxisSpec.categoryLabels(columnLabels, count: cells.map(\.count).max() ?? 0)
        self.rowLabels = AxisSpec.categoryLabels(rowLabels, count: cells.count)
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.colors = colors
        self.legendTitle = legendTitle
        self.squareCells = squareCells
    }

    /// Convenience for category names per cell; categories are listed in order of first appearance.
    public init(title: String, cells names: [[String]], columnLabels: [String] = [], rowLabels: [String] = [],
                xLabel: String = "", yLabel: String = "", colors: [String: Color] = [:], legendTitle: String = "",
                squareCells: Bool = false) {
        var categories: [String] = []
        for row in names {
            for name in row where !categories.contains(name) {
                categories.append(name)
            }
        }
        let cells = names.map { row in row.map { categories.firstIndex(of: $0) ?? -1 } }
        let palette = categories.enumerated().map { colors[$0.element] ?? Palette.categorical($0.offset) }
        self.init(title: title, categories: categories, cells: cells, columnLabels: columnLabels, rowLabels: rowLabels,
                  xLabel: xLabel, yLabel: yLabel, colors: palette, legendTitle: legendTitle, squareCells: squareCells)
    }

    private func color(of category: Int) -> Color {
        if let colors, category < colors.count { return colors[category] }
        return Palette.categorical(category)
    }

    public func primitives(in frame: Rect, style: ChartStyle) -> [Primitive] {
        let columns = columnLabels.count
        var spec = PlotSpec(title: title,
                            x: AxisSpec(label: xLabel, kind: .categorical(columnLabels), showsGrid: false),
                            y: AxisSpec(label: yLabel, kind: .categorical(rowLabels), showsGrid: false))
        spec.legend = Legend(title: legendTitle, entries: categories.indices.map {
            Legend.Entry(label: categories[$0], swatch: .box(color(of: $0)))
        })
        spec.equalAspect = squareCells
        spec.frameStyle = .box
        if cells.isEmpty || columns == 0 {
            spec.emptyMessage = "Empty grid"
        }
        let layout = PlotLayout(spec, in: frame, style: style)
        let plot = layout.plot
        let cellWidth = plot.width / Double(max(1, columns)), cellHeight = plot.height / Double(max(1, cells.count))
        var content: [Primitive] = []
        for (row, rowCells) in cells.enumerated() {
            for (column, category) in rowCells.enumerated() where categories.indices.contains(category) {
                let cell = Rect(x: plot.minX + Double(column) * cellWidth, y: plot.maxY - Double(row + 1) * cellHeight,
                                width: cellWidth, height: cellHeight)
                content.append(.rect(cell.inset(by: -0.25), fill: color(of: category)))
            }
        }
        return layout.compose(content, clip: plot)
    }
}
