import Foundation

/// Human-friendly number formatting for tick labels, colour bars and cell annotations.
///
/// Uses the typographic minus sign (−) and superscript exponents (2×10⁻⁵), never the locale.
enum NumberFormat {
    static let minus = "\u{2212}"

    /// Labels for linear ticks spaced `step` apart: same number of decimals for all ticks.
    static func ticks(_ values: [Double], step: Double) -> [String] {
        let largest = values.map(abs).max() ?? 0
        if largest >= 1e5 || (step < 1e-4 && largest < 1e-3) {
            return values.map { scientific($0, step: step) }
        }
        let decimals = max(0, -Int((log10(step) + 1e-9).rounded(.down)))
        return values.map { fixed($0, decimals: decimals) }
    }

    /// `10ⁿ` for a decade tick; small decades are written out ("0.01", "100") when `plain`.
    static func decade(_ value: Double, plain: Bool) -> String {
        let exponent = Int(log10(value).rounded())
        if plain {
            return exponent >= 0 ? fixed(pow(10, Double(exponent)), decimals: 0) : fixed(pow(10, Double(exponent)), decimals: -exponent)
        }
        return "10" + superscript(exponent)
    }

    /// About three significant digits, switching to scientific notation for extreme magnitudes.
    static func compact(_ value: Double, significantDigits: Int = 3) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "\(minus)∞") }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 {
            let exponent = Int(log10(magnitude).rounded(.down))
            let mantissa = value / pow(10, Double(exponent))
            let digits = stripZeros(fixed(mantissa, decimals: max(0, significantDigits - 1)))
            return (digits == "1" ? "" : digits == "\(minus)1" ? minus : digits + "×") + "10" + superscript(exponent)
        }
        let decimals = max(0, significantDigits - 1 - Int(log10(magnitude).rounded(.down)))
        return stripZeros(fixed(value, decimals: min(decimals, 6)))
    }

    /// Fixed-point text with a typographic minus; "-0" never appears.
    static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return compact(value) }
        let factor = pow(10, Double(decimals))
        let scaled = (abs(value) * factor).rounded()
        guard scaled < 9e17 else { return compact(value) }
        let integer = UInt64(scaled)
        var digits = String(integer)
        if decimals > 0 {
            if digits.count <= decimals {
                digits = String(repeating: "0", count: decimals - digits.count + 1) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return (value < 0 && integer != 0 ? minus : "") + digits
    }

    static func superscript(_ value: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let body = String(String(abs(value)).map { digits[Int(String($0))!] })
        return (value < 0 ? "⁻" : "") + body
    }

    private static func scientific(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        let exponent = Int(log10(abs(value)).rounded(.down))
        let stepExponent = Int((log10(step) + 1e-9).rounded(.down))
        let decimals = min(3, max(0, exponent - stepExponent))
        let mantissa = fixed(value / pow(10, Double(exponent)), decimals: decimals)
        let trimmed = stripZeros(mantissa)
        return (trimmed == "1" ? "" : trimmed == "\(minus)1" ? minus : trimmed + "×") + "10" + superscript(exponent)
    }

    private static func stripZeros(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var result = text
        while result.hasSuffix("0") { result.removeLast() }
        if result.hasSuffix(".") { result.removeLast() }
        return result
    }
}
