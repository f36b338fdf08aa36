import Foundation

/// Draws a ``Scene`` into a ``RasterCanvas`` at a given pixel density.
struct RasterRenderer {
    /// Pixels per figure point.
    var scale: Double = 2

    func render(_ scene: Scene) -> RasterCanvas {
        let width = Int((scene.size.width * scale).rounded(.up))
        let height = Int((scene.size.height * scale).rounded(.up))
        var canvas = RasterCanvas(width: width, height: height, background: scene.background)
        let clip = canvas.bounds
        for primitive in scene.primitives {
            draw(primitive, on: &canvas, clip: clip)
        }
        return canvas
    }

    private func draw(_ primitive: Primitive, on canvas: inout RasterCanvas, clip: Rect) {
        switch primitive {
        case let .line(from, to, stroke):
            strokePath([from, to], stroke, closed: false, on: &canvas, clip: clip)
        case let .polyline(points, stroke):
            strokePath(points, stroke, closed: false, on: &canvas, clip: clip)
        case let .rect(rect, fill, stroke):
            guard rect.width >= 0, rect.height >= 0, isFinite(rect) else { return }
            let corners = [Point(rect.minX, rect.minY), Point(rect.maxX, rect.minY),
                           Point(rect.maxX, rect.maxY), Point(rect.minX, rect.maxY)]
            if let fill { canvas.fill([corners.map(scaled)], color: fill, clip: clip) }
            if let stroke {
                if stroke.dash.isEmpty {
                    strokeRectangle(rect, stroke, on: &canvas, clip: clip)
                } else {
                    strokePath(corners, stroke, closed: true, on: &canvas, clip: clip)
                }
            }
        case let .circle(center, radius, fill, stroke):
            guard radius > 0, center.x.isFinite, center.y.isFinite, radius.isFinite else { return }
            let outline = StrokeOutliner.circle(center: scaled(center), radius: radius * scale)
            if let fill { canvas.fill([outline], color: fill, clip: clip) }
            if let stroke {
                let half = stroke.width * scale / 2
                if stroke.dash.isEmpty, radius * scale > half {
                    let outer = StrokeOutliner.circle(center: scaled(center), radius: radius * scale + half)
                    let inner = StrokeOutliner.circle(center: scaled(center), radius: radius * scale - half)
                    canvas.fill([StrokeOutliner.oriented(outer), StrokeOutliner.oriented(inner, positive: false)],
                                color: stroke.color, clip: clip)
                } else {
                    let points = StrokeOutliner.circle(center: center, radius: radius)
                    strokePath(points, stroke, closed: true, on: &canvas, clip: clip)
                }
            }
        case let .polygon(points, fill, stroke):
            let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
            guard finite.count > 2 else { return }
            if let fill { canvas.fill([finite.map(scaled)], color: fill, clip: clip) }
            if let stroke { strokePath(finite, stroke, closed: true, on: &canvas, clip: clip) }
        case let .arrow(from, to, stroke, headLength, headWidth):
            let arrow = ArrowGeometry(from: from, to: to, headLength: headLength, headWidth: headWidth)
            strokePath([from, arrow.shaftEnd], stroke, closed: false, on: &canvas, clip: clip)
            if !arrow.head.isEmpty {
                draw(.polygon(arrow.head, fill: stroke.color), on: &canvas, clip: clip)
            }
        case let .text(text, position, style):
            drawText(text, at: position, style: style, on: &canvas, clip: clip)
        case let .group(children, groupClip):
            let inner = groupClip.map { clip.intersection(scaled($0)) } ?? clip
            for child in children {
                draw(child, on: &canvas, clip: inner)
            }
        }
    }

    private func strokePath(_ points: [Point], _ stroke: Stroke, closed: Bool,
                            on canvas: inout RasterCanvas, clip: Rect) {
        let contours = StrokeOutliner.outline(points.map(scaled), width: stroke.width * scale, cap: stroke.cap,
                                              dash: stroke.dash.map { $0 * scale }, closed: closed)
        canvas.fill(contours, color: stroke.color, clip: clip)
    }

    /// A rectangle outline as an outer contour minus an inner one, giving crisp mitred corners.
    private func strokeRectangle(_ rect: Rect, _ stroke: Stroke, on canvas: inout RasterCanvas, clip: Rect) {
        let r = scaled(rect), half = stroke.width * scale / 2
        func corners(_ inset: Double) -> [Point] {
            [Point(r.minX + inset, r.minY + inset), Point(r.maxX - inset, r.minY + inset),
             Point(r.maxX - inset, r.maxY - inset), Point(r.minX + inset, r.maxY - inset)]
        }
        var contours = [StrokeOutliner.oriented(corners(-half))]
        if r.width > 2 * half, r.height > 2 * half {
            contours.append(StrokeOutliner.oriented(corners(half), positive: false))
        }
        canvas.fill(contours, color: stroke.color, clip: clip)
    }

    private func drawText(_ text: String, at position: Point, style: TextStyle,
                          on canvas: inout RasterCanvas, clip: Rect) {
        guard !text.isEmpty, position.x.isFinite, position.y.isFinite, style.size > 0 else { return }
        let size = style.size * scale
        let widthFactor = StrokeFont.widthFactor(style.weight)
        let totalWidth = TextMetrics.width(text, size: size, weight: style.weight)
        var pen: Double
        switch style.anchor {
        case .start: pen = 0
        case .middle: pen = -totalWidth / 2
        case .end: pen = -totalWidth
        }
        let baseline = style.baselineOffset * scale
        let angle = style.rotation * .pi / 180
        let cosine = cos(angle), sine = sin(angle)
        let origin = scaled(position)
        let penWidth = StrokeFont.strokeWidth(style.weight) * size
        var contours: [[Point]] = []
        for character in text {
            let glyph = StrokeFont.glyph(for: character)
            for stroke in glyph.strokes {
                let points = stroke.map { g in
                    let x = pen + g.x * size * widthFactor, y = baseline - g.y * size
                    return Point(origin.x + x * cosine - y * sine, origin.y + x * sine + y * cosine)
                }
                contours += StrokeOutliner.outline(points, width: penWidth * glyph.penScale, cap: .round)
            }
            pen += glyph.advance * size * widthFactor
        }
        canvas.fill(contours, color: style.color, clip: clip)
    }

    private func scaled(_ point: Point) -> Point {
        Point(point.x * scale, point.y * scale)
    }

    private func scaled(_ rect: Rect) -> Rect {
        Rect(x: rect.x * scale, y: rect.y * scale, width: rect.width * scale, height: rect.height * scale)
    }

    private func isFinite(_ rect: Rect) -> Bool {
        rect.x.isFinite && rect.y.isFinite && rect.width.isFinite && rect.height.isFinite
    }
}
