import Foundation

/// One piece of content of a ``ReportPage``, rendered in order.
public enum ReportBlock: Sendable {
    /// Starts a new section with a heading (listed in the page's table of contents).
    case section(String)
    /// A smaller heading inside a section.
    case subheading(String)
    /// Plain text; blank lines separate paragraphs.
    case paragraph(String)
    /// A highlighted remark, e.g. a caveat about the run.
    case note(String)
    /// Two-column table of names and values, e.g. hyperparameters.
    case keyValues([(String, String)], caption: String = "")
    /// A table with column headers; columns whose cells all look numeric are right-aligned.
    case table(headers: [String], rows: [[String]], caption: String = "")
    /// Preformatted JSON (or any text), shown verbatim.
    case json(String, caption: String = "")
    /// A figure embedded as inline SVG, numbered automatically.
    case figure(Figure, caption: String = "")
    /// Several figures side by side (wrapping on narrow screens) under one caption.
    case figures([Figure], caption: String = "")

    /// A table of numbers, each shown with `significantDigits` significant digits.
    public static func numericTable(headers: [String], rows: [[Double]], caption: String = "",
                                    significantDigits: Int = 4) -> ReportBlock {
        .table(headers: headers,
               rows: rows.map { $0.map { NumberFormat.compact($0, significantDigits: significantDigits) } },
               caption: caption)
    }

    /// Any `Encodable` value as pretty-printed JSON with sorted keys.
    public static func json<Value: Encodable>(encoding value: Value, caption: String = "") -> ReportBlock {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return .json(String(decoding: try encoder.encode(value), as: UTF8.self), caption: caption)
        } catch {
            return .note("Could not encode JSON: \(error)")
        }
    }
}
