/// The first index where the two arrays differ in any bit, with both values; nil when they are the same bits.
func firstBitDifference(_ x: [Float], _ y: [Float]) -> String? {
    guard x.count == y.count else { return "\(x.count) values against \(y.count)" }
    guard let i = x.indices.first(where: { x[$0].bitPattern != y[$0].bitPattern }) else { return nil }
    return "index \(i): \(x[i]) against \(y[i])"
}
