import Foundation

/// A finished figure: a ``Scene`` that can be written as SVG or PNG.
///
/// ```swift
/// let figure = LinePlot(title: "Loss", series: [LineSeries(name: "train", x: steps, y: loss)]).figure()
/// try figure.writeSVG(to: folder.appendingPathComponent("loss.svg"))
/// try figure.writePNG(to: folder.appendingPathComponent("loss.png"))
/// ```
public struct Figure: Sendable {
    public var scene: Scene

    public init(scene: Scene) {
        self.scene = scene
    }

    public var size: Size { scene.size }

    /// A standalone SVG 1.1 document.
    public var svg: String {
        SVGRenderer().render(scene)
    }

    /// SVG markup for embedding in HTML: no XML declaration, and element ids prefixed
    /// with `idPrefix` so several figures on one page cannot collide.
    public func inlineSVG(idPrefix: String) -> String {
        SVGRenderer(idPrefix: idPrefix, includesXMLDeclaration: false).render(scene)
    }

    /// A PNG image at `scale` pixels per point (2 gives a sharp image on most screens and in print drafts).
    public func pngData(scale: Double = 2) -> Data {
        let canvas = RasterRenderer(scale: max(0.1, scale)).render(scene)
        return Data(PNGEncoder.encode(width: canvas.width, height: canvas.height, rgba: canvas.rgbaBytes()))
    }

    public func writeSVG(to url: URL) throws {
        try Data(svg.utf8).write(to: url, options: .atomic)
    }

    public func writePNG(to url: URL, scale: Double = 2) throws {
        try pngData(scale: scale).write(to: url, options: .atomic)
    }
}
