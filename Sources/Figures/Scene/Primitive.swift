/// One drawing instruction of a ``Scene``.
///
/// Coordinates are in figure points with the origin at the top left and y growing downwards.
public indirect enum Primitive: Sendable {
    case line(from: Point, to: Point, stroke: Stroke)
    case polyline([Point], stroke: Stroke)
    case rect(Rect, fill: Color?, stroke: Stroke? = nil)
    case circle(center: Point, radius: Double, fill: Color?, stroke: Stroke? = nil)
    /// A closed polygon.
    case polygon([Point], fill: Color?, stroke: Stroke? = nil)
    /// A straight arrow whose filled head (in the stroke colour) ends exactly at `to`.
    case arrow(from: Point, to: Point, stroke: Stroke, headLength: Double = 8, headWidth: Double = 6)
    case text(String, at: Point, style: TextStyle)
    /// Primitives drawn together, optionally clipped to a rectangle.
    case group([Primitive], clip: Rect? = nil)
}

/// An arrow split into a shaft and a head, so both renderers draw identical arrows.
struct ArrowGeometry {
    var shaftEnd: Point
    var head: [Point]

    init(from: Point, to: Point, headLength: Double, headWidth: Double) {
        let dx = to.x - from.x, dy = to.y - from.y
        let length = (dx * dx + dy * dy).squareRoot()
        guard length > 0 else {
            shaftEnd = to
            head = []
            return
        }
        // Short arrows get a proportionally smaller head instead of one longer than the arrow.
        let shrink = min(1, length * 0.6 / max(headLength, 1e-9))
        let headLength = headLength * shrink
        let halfWidth = headWidth / 2 * shrink
        let ux = dx / length, uy = dy / length
        let base = Point(to.x - ux * headLength, to.y - uy * headLength)
        // The shaft stops a little inside the head so anti-aliasing leaves no seam.
        shaftEnd = Point(base.x + ux * headLength * 0.2, base.y + uy * headLength * 0.2)
        head = [to,
                Point(base.x - uy * halfWidth, base.y + ux * halfWidth),
                Point(base.x + uy * halfWidth, base.y - ux * halfWidth)]
    }
}
