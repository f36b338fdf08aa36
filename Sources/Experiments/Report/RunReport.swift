import Figures
import Foundation

/// A run report: its figures and the page that embeds them. Every experiment's report conforms,
/// so writing one is the same for all: figures/*.svg (and .png on request), then report.html.
public protocol RunReport {
    /// Every figure of the report, in page order.
    func figures() -> [ReportFigure]
    /// The complete page, embedding `figures`.
    func page(figures: [ReportFigure]) -> ReportPage
}

extension RunReport {
    /// The complete page with every figure of the report.
    public func page() -> ReportPage { page(figures: figures()) }

    /// Writes the figures and report.html into `folder` (see `RunFolder.writeReport`); returns the report's URL.
    @discardableResult
    public func write(to folder: RunFolder, includingPNG: Bool = false) throws -> URL {
        let figures = self.figures()
        return try folder.writeReport(page(figures: figures), figures: figures, includingPNG: includingPNG)
    }
}
