import Foundation

/// Writes a ``Scene`` as a standalone SVG 1.1 document.
struct SVGRenderer {
    /// Prefix of generated element ids; distinct prefixes keep several SVGs in one HTML page apart.
    /// `nil` derives one from a hash of the drawing, so different figures get different ids
    /// while the output stays deterministic.
    var idPrefix: String?
    /// Whether to begin with `<?xml …?>`; omitted when embedding in HTML.
    var includesXMLDeclaration = true

    static let fontFamily = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"

    func render(_ scene: Scene) -> String {
        guard let idPrefix else {
            // Written once with a placeholder (not valid in XML, so it cannot occur in escaped
            // text), which is then replaced by a digest of the whole document.
            let placeholder = "\u{1}"
            let draft = SVGRenderer(idPrefix: placeholder, includesXMLDeclaration: includesXMLDeclaration).render(scene)
            guard draft.contains(placeholder) else { return draft }
            return draft.replacingOccurrences(of: placeholder, with: "f" + Self.digest(draft))
        }
        var writer = Writer(idPrefix: idPrefix)
        let w = Markup.number(scene.size.width), h = Markup.number(scene.size.height)
        if includesXMLDeclaration {
            writer.out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        }
        writer.out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(w)\" height=\"\(h)\" "
        writer.out += "viewBox=\"0 0 \(w) \(h)\" font-family=\"\(Self.fontFamily)\">\n"
        if !scene.title.isEmpty {
            writer.out += "<title>\(Markup.escape(scene.title))</title>\n"
        }
        if let background = scene.background {
            writer.out += "<rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\"\(Writer.fill(background))/>\n"
        }
        for primitive in scene.primitives {
            writer.write(primitive)
        }
        writer.out += "</svg>\n"
        return writer.out
    }

    /// Eight hex digits of the 64-bit FNV-1a hash.
    private static func digest(_ text: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        let hex = String(hash >> 32, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    private struct Writer {
        let idPrefix: String
        var out = ""
        var clipCount = 0

        init(idPrefix: String) {
            self.idPrefix = idPrefix
            out.reserveCapacity(1 << 16)
        }

        mutating func write(_ primitive: Primitive) {
            switch primitive {
            case let .line(from, to, stroke):
                out += "<line x1=\"\(n(from.x))\" y1=\"\(n(from.y))\" x2=\"\(n(to.x))\" y2=\"\(n(to.y))\"\(Self.stroke(stroke))/>\n"
            case let .polyline(points, stroke):
                guard points.count > 1 else { return }
                out += "<polyline points=\"\(Self.points(points))\" fill=\"none\"\(Self.stroke(stroke)) stroke-linejoin=\"round\"/>\n"
            case let .rect(rect, fill, stroke):
                guard rect.width >= 0, rect.height >= 0 else { return }
                out += "<rect x=\"\(n(rect.x))\" y=\"\(n(rect.y))\" width=\"\(n(rect.width))\" height=\"\(n(rect.height))\""
                out += Self.fill(fill) + Self.stroke(stroke) + "/>\n"
            case let .circle(center, radius, fill, stroke):
                out += "<circle cx=\"\(n(center.x))\" cy=\"\(n(center.y))\" r=\"\(n(radius))\""
                out += Self.fill(fill) + Self.stroke(stroke) + "/>\n"
            case let .polygon(points, fill, stroke):
                guard points.count > 2 else { return }
                out += "<polygon points=\"\(Self.points(points))\"" + Self.fill(fill) + Self.stroke(stroke)
                out += stroke == nil ? "/>\n" : " stroke-linejoin=\"round\"/>\n"
            case let .arrow(from, to, stroke, headLength, headWidth):
                let arrow = ArrowGeometry(from: from, to: to, headLength: headLength, headWidth: headWidth)
                out += "<g>"
                write(.line(from: from, to: arrow.shaftEnd, stroke: stroke))
                if !arrow.head.isEmpty {
                    write(.polygon(arrow.head, fill: stroke.color))
                }
                out += "</g>\n"
            case let .text(text, position, style):
                writeText(text, at: position, style: style)
            case let .group(children, clip):
                if let clip {
                    clipCount += 1
                    let id = "\(idPrefix)-clip\(clipCount)"
                    out += "<clipPath id=\"\(id)\"><rect x=\"\(n(clip.x))\" y=\"\(n(clip.y))\" "
                    out += "width=\"\(n(clip.width))\" height=\"\(n(clip.height))\"/></clipPath>\n"
                    out += "<g clip-path=\"url(#\(id))\">\n"
                } else {
                    out += "<g>\n"
                }
                for child in children {
                    write(child)
                }
                out += "</g>\n"
            }
        }

        private mutating func writeText(_ text: String, at position: Point, style: TextStyle) {
            guard !text.isEmpty else { return }
            out += "<text x=\"\(n(position.x))\" y=\"\(n(position.y + style.baselineOffset))\" font-size=\"\(n(style.size))\""
            if style.weight == .bold { out += " font-weight=\"bold\"" }
            switch style.anchor {
            case .start: break
            case .middle: out += " text-anchor=\"middle\""
            case .end: out += " text-anchor=\"end\""
            }
            out += Self.fill(style.color)
            if style.rotation != 0 {
                out += " transform=\"rotate(\(n(style.rotation)) \(n(position.x)) \(n(position.y)))\""
            }
            out += ">\(Markup.escape(text))</text>\n"
        }

        private func n(_ value: Double) -> String { Markup.number(value) }

        static func points(_ points: [Point]) -> String {
            var text = ""
            var last = ""
            for point in points {
                let item = "\(Markup.number(point.x)),\(Markup.number(point.y))"
                // Dense series often round to the same coordinate; repeating it only adds bytes.
                if item == last { continue }
                if !text.isEmpty { text += " " }
                text += item
                last = item
            }
            return text
        }

        static func fill(_ color: Color?) -> String {
            guard let color else { return " fill=\"none\"" }
            var text = " fill=\"\(color.hexString)\""
            if color.alpha < 1 { text += " fill-opacity=\"\(opacity(color.alpha))\"" }
            return text
        }

        static func stroke(_ stroke: Stroke?) -> String {
            guard let stroke else { return "" }
            var text = " stroke=\"\(stroke.color.hexString)\" stroke-width=\"\(Markup.number(stroke.width))\""
            if stroke.color.alpha < 1 { text += " stroke-opacity=\"\(opacity(stroke.color.alpha))\"" }
            if !stroke.dash.isEmpty {
                text += " stroke-dasharray=\"\(stroke.dash.map(Markup.number).joined(separator: " "))\""
            }
            switch stroke.cap {
            case .butt: break
            case .round: text += " stroke-linecap=\"round\""
            case .square: text += " stroke-linecap=\"square\""
            }
            return text
        }

        private static func opacity(_ alpha: Double) -> String {
            let thousandths = Int((alpha * 1000).rounded())
            if thousandths >= 1000 { return "1" }
            let digits = String(thousandths)
            var fraction = String(repeating: "0", count: 3 - digits.count) + digits
            while fraction.hasSuffix("0") { fraction.removeLast() }
            return fraction.isEmpty ? "0" : "0.\(fraction)"
        }
    }
}
