import Figures
import Foundation
import TensorCore

extension RunFolder {
    /// Writes each figure as figures/<name>.svg (and .png when asked), then report.html — last, so a
    /// report.html on disk always comes with the figures it describes. Every file is written atomically.
    /// - Returns: the URL of report.html.
    @discardableResult
    public func writeReport(_ page: ReportPage, figures: [ReportFigure], includingPNG: Bool = false) throws -> URL {
        try AtomicFile.createDirectory(at: figuresURL)
        for item in figures {
            let stem = figuresURL.appendingPathComponent(item.name)
            try AtomicFile.write(Data(item.figure.svg.utf8), to: stem.appendingPathExtension("svg"))
            if includingPNG { try AtomicFile.write(item.figure.pngData(), to: stem.appendingPathExtension("png")) }
        }
        try AtomicFile.write(Data(page.html.utf8), to: reportURL)
        return reportURL
    }
}
