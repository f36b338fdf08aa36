import Foundation

/// Turns stroked lines into fillable contours for ``RasterCanvas``.
///
/// Each segment becomes a quadrilateral and each vertex a disc (round joins); all contours
/// share one orientation so that where they overlap the canvas sees a union, not a hole.
enum StrokeOutliner {
    static func outline(_ points: [Point], width: Double, cap: Stroke.Cap = .butt,
                        dash: [Double] = [], closed: Bool = false) -> [[Point]] {
        guard width > 0 else { return [] }
        var path = deduplicated(points)
        if closed, let first = path.first, path.count > 2 { path.append(first) }
        guard !path.isEmpty else { return [] }
        let pieces = dash.reduce(0, +) > 0 ? split(path, dash: dash) : [path]
        var contours: [[Point]] = []
        for piece in pieces {
            contours += outlineSolid(piece, width: width, cap: cap, closed: closed && pieces.count == 1)
        }
        return contours
    }

    /// A polygon approximating a circle, with sides short enough to look round at this size.
    static func circle(center: Point, radius: Double) -> [Point] {
        let sides = max(8, min(256, Int((2 * Double.pi * radius / 1.2).rounded(.up))))
        return (0..<sides).map { index in
            let angle = 2 * Double.pi * Double(index) / Double(sides)
            return Point(center.x + radius * cos(angle), center.y + radius * sin(angle))
        }
    }

    /// Ensures anticlockwise orientation (in y-down coordinates, positive shoelace area).
    static func oriented(_ contour: [Point], positive: Bool = true) -> [Point] {
        var area = 0.0
        var previous = contour[contour.count - 1]
        for point in contour {
            area += previous.x * point.y - point.x * previous.y
            previous = point
        }
        return (area >= 0) == positive ? contour : contour.reversed()
    }

    private static func outlineSolid(_ path: [Point], width: Double, cap: Stroke.Cap, closed: Bool) -> [[Point]] {
        let half = width / 2
        if path.count == 1 {
            switch cap {
            case .butt: return []
            case .round: return [oriented(circle(center: path[0], radius: half))]
            case .square:
                let p = path[0]
                return [oriented([Point(p.x - half, p.y - half), Point(p.x + half, p.y - half),
                                  Point(p.x + half, p.y + half), Point(p.x - half, p.y + half)])]
            }
        }
        var contours: [[Point]] = []
        contours.reserveCapacity(path.count * 2)
        let last = path.count - 1
        for index in 0..<last {
            var a = path[index], b = path[index + 1]
            let dx = b.x - a.x, dy = b.y - a.y
            let length = (dx * dx + dy * dy).squareRoot()
            guard length > 0 else { continue }
            let ux = dx / length, uy = dy / length
            if cap == .square && !closed {
                if index == 0 { a = Point(a.x - ux * half, a.y - uy * half) }
                if index == last - 1 { b = Point(b.x + ux * half, b.y + uy * half) }
            }
            let nx = -uy * half, ny = ux * half
            contours.append(oriented([Point(a.x + nx, a.y + ny), Point(b.x + nx, b.y + ny),
                                      Point(b.x - nx, b.y - ny), Point(a.x - nx, a.y - ny)]))
        }
        // Round joins only where the direction visibly changes; straight runs need none.
        let joinRange = closed ? 0..<last : 1..<last
        for index in joinRange {
            let previous = path[index == 0 ? last - 1 : index - 1], point = path[index], next = path[index + 1]
            let ax = point.x - previous.x, ay = point.y - previous.y
            let bx = next.x - point.x, by = next.y - point.y
            let la = (ax * ax + ay * ay).squareRoot(), lb = (bx * bx + by * by).squareRoot()
            guard la > 0, lb > 0 else { continue }
            let cosine = (ax * bx + ay * by) / (la * lb)
            let gap = half * (1 - cosine) * 2
            if gap > 0.03 || cosine < 0 {
                contours.append(oriented(circle(center: point, radius: half)))
            }
        }
        if cap == .round && !closed {
            contours.append(oriented(circle(center: path[0], radius: half)))
            contours.append(oriented(circle(center: path[last], radius: half)))
        }
        return contours
    }

    private static func deduplicated(_ points: [Point]) -> [Point] {
        var result: [Point] = []
        result.reserveCapacity(points.count)
        for point in points where point.x.isFinite && point.y.isFinite {
            if let previous = result.last, abs(previous.x - point.x) < 0.05, abs(previous.y - point.y) < 0.05 {
                continue
            }
            result.append(point)
        }
        return result
    }

    /// Cuts a polyline into the "on" pieces of a dash pattern.
    private static func split(_ path: [Point], dash: [Double]) -> [[Point]] {
        let pattern = dash.count % 2 == 0 ? dash : dash + dash
        var pieces: [[Point]] = []
        var current: [Point] = [path[0]]
        var patternIndex = 0
        var remaining = pattern[0]
        var on = true
        for index in 1..<max(1, path.count) {
            var start = path[index - 1]
            let end = path[index]
            var length = hypot(end.x - start.x, end.y - start.y)
            while length > 0 {
                let step = min(length, remaining)
                let t = step / length
                let point = Point(start.x + (end.x - start.x) * t, start.y + (end.y - start.y) * t)
                if on { current.append(point) }
                start = point
                length -= step
                remaining -= step
                if remaining <= 1e-9 {
                    if on, current.count > 1 { pieces.append(current) }
                    on.toggle()
                    patternIndex = (patternIndex + 1) % pattern.count
                    remaining = max(1e-3, pattern[patternIndex])
                    current = on ? [start] : []
                }
            }
        }
        if on, current.count > 1 { pieces.append(current) }
        return pieces
    }
}
