import Figures

/// One figure of a run report: written to `figures/<name>.svg` and embedded in report.html
/// under its heading, after a paragraph saying what it shows and what the paper expects.
public struct ReportFigure: Sendable {
    /// File stem under figures/, e.g. "loss-curves".
    public var name: String
    public var heading: String
    /// What the figure shows and what the paper expects, one paragraph.
    public var description: String
    /// Short text under the figure: what is plotted and where the numbers come from.
    public var caption: String
    public var figure: Figure

    public init(name: String, heading: String, description: String, caption: String, figure: Figure) {
        self.name = name
        self.heading = heading
        self.description = description
        self.caption = caption
        self.figure = figure
    }
}

extension ReportPage {
    /// Adds a figure as its own section: heading, the paragraph on what it shows, the captioned figure.
    public mutating func addSection(for figure: ReportFigure) {
        add(.section(figure.heading))
        add(.paragraph(figure.description))
        add(.figure(figure.figure, caption: figure.caption))
    }
}
