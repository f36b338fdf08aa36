import Foundation

/// An RGBA pixel buffer that fills polygons with exact-area anti-aliasing.
///
/// Coverage is accumulated per pixel from signed edge areas (the approach popularised by
/// font-rs), which is exact for a single contour. Overlapping contours of the same
/// orientation add up and are clamped, which gives a union; contours of opposite
/// orientation cancel, which gives holes.
struct RasterCanvas {
    let width: Int
    let height: Int
    /// Premultiplied RGBA, row-major, top row first.
    private(set) var pixels: [Float]

    init(width: Int, height: Int, background: Color?) {
        self.width = max(1, width)
        self.height = max(1, height)
        let count = self.width * self.height
        pixels = [Float](repeating: 0, count: count * 4)
        if let background, background.alpha > 0 {
            let a = Float(background.alpha)
            let px: [Float] = [Float(background.red) * a, Float(background.green) * a, Float(background.blue) * a, a]
            for index in 0..<count {
                pixels[index * 4] = px[0]
                pixels[index * 4 + 1] = px[1]
                pixels[index * 4 + 2] = px[2]
                pixels[index * 4 + 3] = px[3]
            }
        }
    }

    var bounds: Rect { Rect(x: 0, y: 0, width: Double(width), height: Double(height)) }

    /// Fills closed contours (pixel coordinates) with a colour, restricted to `clip`.
    mutating func fill(_ contours: [[Point]], color: Color, clip: Rect) {
        guard color.alpha > 0 else { return }
        let clipRect = clip.intersection(bounds)
        guard !clipRect.isEmpty else { return }
        let clipped = contours.compactMap { Self.clip($0, to: clipRect) }
        guard !clipped.isEmpty else { return }

        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        for contour in clipped {
            for p in contour {
                minX = min(minX, p.x); maxX = max(maxX, p.x)
                minY = min(minY, p.y); maxY = max(maxY, p.y)
            }
        }
        let x0 = max(0, Int(minX.rounded(.down))), y0 = max(0, Int(minY.rounded(.down)))
        let x1 = min(width, Int(maxX.rounded(.up))), y1 = min(height, Int(maxY.rounded(.up)))
        let boxWidth = x1 - x0, boxHeight = y1 - y0
        guard boxWidth > 0, boxHeight > 0 else { return }

        let stride = boxWidth + 2
        var area = [Float](repeating: 0, count: stride * boxHeight)
        let ox = Double(x0), oy = Double(y0)
        for contour in clipped {
            var previous = contour[contour.count - 1]
            for point in contour {
                Self.accumulate(from: Point(previous.x - ox, previous.y - oy), to: Point(point.x - ox, point.y - oy),
                                into: &area, stride: stride, rows: boxHeight)
                previous = point
            }
        }

        let alpha = Float(color.alpha)
        let r = Float(color.red), g = Float(color.green), b = Float(color.blue)
        for row in 0..<boxHeight {
            var sum: Float = 0
            var index = ((y0 + row) * width + x0) * 4
            for column in 0..<boxWidth {
                sum += area[row * stride + column]
                let coverage = min(1, abs(sum))
                if coverage > 0.002 {
                    let a = coverage * alpha, keep = 1 - a
                    pixels[index] = r * a + pixels[index] * keep
                    pixels[index + 1] = g * a + pixels[index + 1] * keep
                    pixels[index + 2] = b * a + pixels[index + 2] * keep
                    pixels[index + 3] = a + pixels[index + 3] * keep
                }
                index += 4
            }
        }
    }

    /// Straight (non-premultiplied) 8-bit RGBA, as PNG expects.
    func rgbaBytes() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: pixels.count)
        for index in Swift.stride(from: 0, to: pixels.count, by: 4) {
            let a = pixels[index + 3]
            guard a > 0 else { continue }
            for channel in 0..<3 {
                bytes[index + channel] = Self.byte(pixels[index + channel] / a)
            }
            bytes[index + 3] = Self.byte(a)
        }
        return bytes
    }

    private static func byte(_ value: Float) -> UInt8 {
        UInt8(max(0, min(255, (value * 255).rounded())))
    }

    /// Adds one edge's signed area contributions to the rows it crosses.
    private static func accumulate(from p0: Point, to p1: Point, into area: inout [Float], stride: Int, rows: Int) {
        guard p0.y != p1.y else { return }
        let direction: Double = p0.y < p1.y ? 1 : -1
        let (top, bottom) = p0.y < p1.y ? (p0, p1) : (p1, p0)
        let dxdy = (bottom.x - top.x) / (bottom.y - top.y)
        var x = top.x
        if top.y < 0 { x -= top.y * dxdy }
        let yEnd = min(Double(rows), bottom.y)
        var row = max(0, Int(top.y.rounded(.down)))
        while Double(row) < yEnd {
            let dy = min(Double(row + 1), bottom.y) - max(Double(row), top.y)
            let xNext = x + dxdy * dy
            if dy > 0 {
                let d = dy * direction
                let base = row * stride
                let xa = max(0, min(x, xNext)), xb = max(0, max(x, xNext))
                let xaFloor = xa.rounded(.down), xbCeil = xb.rounded(.up)
                let ia = Int(xaFloor), ib = min(stride - 1, Int(xbCeil))
                if ib <= ia + 1 {
                    let middle = 0.5 * (xa + xb) - xaFloor
                    area[base + ia] += Float(d * (1 - middle))
                    area[base + min(stride - 1, ia + 1)] += Float(d * middle)
                } else {
                    let s = 1 / (xb - xa)
                    let fa = xa - xaFloor
                    let first = 0.5 * s * (1 - fa) * (1 - fa)
                    let fb = xb - xbCeil + 1
                    let last = 0.5 * s * fb * fb
                    area[base + ia] += Float(d * first)
                    if ib == ia + 2 {
                        area[base + ia + 1] += Float(d * (1 - first - last))
                    } else {
                        let second = s * (1.5 - fa)
                        area[base + ia + 1] += Float(d * (second - first))
                        for column in (ia + 2)..<(ib - 1) {
                            area[base + column] += Float(d * s)
                        }
                        let penultimate = second + Double(ib - ia - 3) * s
                        area[base + ib - 1] += Float(d * (1 - penultimate - last))
                    }
                    area[base + ib] += Float(d * last)
                }
            }
            x = xNext
            row += 1
        }
    }

    /// Sutherland–Hodgman clipping of one contour against a rectangle.
    private static func clip(_ contour: [Point], to rect: Rect) -> [Point]? {
        if contour.allSatisfy({ $0.x >= rect.minX && $0.x <= rect.maxX && $0.y >= rect.minY && $0.y <= rect.maxY }) {
            return contour.count > 2 ? contour : nil
        }
        var points = contour
        // Each pass keeps the side where `inside` holds and inserts crossings on the boundary.
        let passes: [(inside: (Point) -> Bool, cross: (Point, Point) -> Point)] = [
            ({ $0.x >= rect.minX }, { a, b in Point(rect.minX, a.y + (b.y - a.y) * (rect.minX - a.x) / (b.x - a.x)) }),
            ({ $0.x <= rect.maxX }, { a, b in Point(rect.maxX, a.y + (b.y - a.y) * (rect.maxX - a.x) / (b.x - a.x)) }),
            ({ $0.y >= rect.minY }, { a, b in Point(a.x + (b.x - a.x) * (rect.minY - a.y) / (b.y - a.y), rect.minY) }),
            ({ $0.y <= rect.maxY }, { a, b in Point(a.x + (b.x - a.x) * (rect.maxY - a.y) / (b.y - a.y), rect.maxY) }),
        ]
        for pass in passes {
            guard points.count > 2 else { return nil }
            var output: [Point] = []
            output.reserveCapacity(points.count + 4)
            var previous = points[points.count - 1]
            var previousInside = pass.inside(previous)
            for point in points {
                let inside = pass.inside(point)
                if inside != previousInside {
                    output.append(pass.cross(previous, point))
                }
                if inside { output.append(point) }
                previous = point
                previousInside = inside
            }
            points = output
        }
        return points.count > 2 ? points : nil
    }
}
