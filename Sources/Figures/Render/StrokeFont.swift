import Foundation

/// One character of the stroke font, in em units with y up from the baseline.
struct Glyph: Sendable {
    /// Advance width in em.
    var advance: Double
    /// Polylines to be stroked with round caps and joins.
    var strokes: [[Point]]
    /// Relative pen width; superscripts and subscripts use a thinner pen to match their size.
    var penScale = 1.0
}

/// A small single-line font used by the PNG renderer and, through its advance widths,
/// by layout code measuring text for both renderers.
enum StrokeFont {
    /// Stroke width in em for each weight.
    static func strokeWidth(_ weight: TextStyle.Weight) -> Double {
        weight == .bold ? 0.12 : 0.08
    }

    /// Bold text is a little wider, as in Helvetica Bold.
    static func widthFactor(_ weight: TextStyle.Weight) -> Double {
        weight == .bold ? 1.06 : 1
    }

    /// The glyph for a character; characters the font lacks are drawn as `?`.
    static func glyph(for character: Character) -> Glyph {
        glyphs[character] ?? glyphs["?"]!
    }

    static func hasGlyph(for character: Character) -> Bool {
        glyphs[character] != nil
    }

    static let glyphs: [Character: Glyph] = {
        var table: [Character: Glyph] = [:]
        for line in strokeFontSource.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let key = line.first else { continue }
            let fields = line.dropFirst().split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard let advance = fields.first.flatMap({ Double($0) }) else { continue }
            let strokes = fields.count > 1 ? parseStrokes(fields[1]) : []
            table[key] = Glyph(advance: advance / 1000, strokes: strokes)
        }
        addScripts(to: &table)
        return table
    }()

    /// Superscript and subscript digits are scaled copies of the ordinary ones, raised or lowered.
    private static func addScripts(to table: inout [Character: Glyph]) {
        let sources: [(Character, Character, Character)] = [
            ("0", "⁰", "₀"), ("1", "¹", "₁"), ("2", "²", "₂"), ("3", "³", "₃"), ("4", "⁴", "₄"),
            ("5", "⁵", "₅"), ("6", "⁶", "₆"), ("7", "⁷", "₇"), ("8", "⁸", "₈"), ("9", "⁹", "₉"),
            ("+", "⁺", "₊"), ("−", "⁻", "₋"), ("=", "⁼", "₌"), ("(", "⁽", "₍"), (")", "⁾", "₎"),
            ("n", "ⁿ", "ₙ"), ("i", "ⁱ", "ᵢ"), ("T", "ᵀ", "?"), ("j", "ʲ", "ⱼ"), ("k", "ᵏ", "ₖ"),
            ("m", "ᵐ", "ₘ"), ("x", "ˣ", "ₓ"), ("a", "ᵃ", "ₐ"), ("e", "ᵉ", "ₑ"), ("o", "ᵒ", "ₒ"),
            ("t", "ᵗ", "ₜ"), ("p", "ᵖ", "ₚ"), ("s", "ˢ", "ₛ"), ("l", "ˡ", "ₗ"), ("h", "ʰ", "ₕ"),
        ]
        let scale = 0.62
        for (base, raised, lowered) in sources {
            guard let glyph = table[base] else { continue }
            // "?" marks a form Unicode lacks (there is no subscript T).
            for (character, lift) in [(raised, 0.33), (lowered, -0.1)] where character != "?" {
                let strokes = glyph.strokes.map { stroke in
                    stroke.map { Point($0.x * scale, $0.y * scale + lift) }
                }
                table[character] = Glyph(advance: glyph.advance * scale, strokes: strokes, penScale: 0.8)
            }
        }
    }

    private static func parseStrokes(_ text: Substring) -> [[Point]] {
        let unit = 1.0 / 14
        return text.split(separator: "|").compactMap { strokeText -> [Point]? in
            var points: [Point] = []
            for token in strokeText.split(separator: " ") {
                if token.hasPrefix("@") {
                    let v = token.dropFirst().split(separator: ",").compactMap { Double($0) }
                    guard v.count == 6 else { continue }
                    let sweep = v[5] - v[4]
                    let steps = max(4, Int((abs(sweep) / 10).rounded(.up)))
                    for step in 0...steps {
                        let angle = (v[4] + sweep * Double(step) / Double(steps)) * .pi / 180
                        points.append(Point((v[0] + v[2] * cos(angle)) * unit,
                                            (v[1] + v[3] * sin(angle)) * unit))
                    }
                } else {
                    let v = token.split(separator: ",").compactMap { Double($0) }
                    guard v.count == 2 else { continue }
                    points.append(Point(v[0] * unit, v[1] * unit))
                }
            }
            return points.isEmpty ? nil : points
        }
    }
}

/// Text measurement shared by chart layout and both renderers.
enum TextMetrics {
    /// Advance width of `text` at a font size, using Helvetica-like widths.
    static func width(_ text: String, size: Double, weight: TextStyle.Weight = .regular) -> Double {
        var total = 0.0
        for character in text {
            total += StrokeFont.glyph(for: character).advance
        }
        return total * size * StrokeFont.widthFactor(weight)
    }

    /// Room to reserve for `text` in layout. Viewers without Helvetica or Arial fall back to
    /// fonts such as DejaVu Sans that run 10–20 % wider, so layout leaves that much slack.
    static func reservedWidth(_ text: String, size: Double, weight: TextStyle.Weight = .regular) -> Double {
        width(text, size: size, weight: weight) * 1.15
    }
}
