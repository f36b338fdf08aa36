import Foundation

/// How the report writes numbers in titles, labels and tables.
enum ReportFormat {
    /// `digits` significant digits, no trailing zeros: 0.05, 0.717, 1, 2.5e-05.
    static func number(_ value: Double, digits: Int = 3) -> String {
        guard value.isFinite else { return value.isNaN ? "–" : (value > 0 ? "∞" : "−∞") }
        return String(format: "%.\(digits)g", value)
    }

    static func number(_ value: Float, digits: Int = 3) -> String {
        number(Double(value), digits: digits)
    }

    /// A whole number with thousands separators: 10,000.
    static func integer(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "−" : "") + grouped
    }

    /// A list of numbers, shortened to its first and last few when long: "1, 0.9, 0.81, …, 0.387".
    static func list(_ values: [Float], digits: Int = 3, limit: Int = 8) -> String {
        let text = values.map { number($0, digits: digits) }
        guard text.count > limit else { return text.joined(separator: ", ") }
        return (text.prefix(limit - 2) + ["…"] + text.suffix(2)).joined(separator: ", ")
    }

    /// Ascending indices with runs collapsed: "0, 3–7, 9"; "none" when empty.
    static func ranges(_ indices: [Int]) -> String {
        guard !indices.isEmpty else { return "none" }
        var parts: [String] = []
        var start = indices[0], end = indices[0]
        for index in indices.dropFirst() + [Int.min] {
            if index == end + 1 { end = index; continue }
            parts.append(start == end ? "\(start)" : (end == start + 1 ? "\(start), \(end)" : "\(start)–\(end)"))
            start = index
            end = index
        }
        return parts.joined(separator: ", ")
    }
}
