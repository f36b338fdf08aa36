/// Encodes 8-bit RGBA pixels as a PNG file (signature, IHDR, one IDAT, IEND).
enum PNGEncoder {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func encode(width: Int, height: Int, rgba: [UInt8]) -> [UInt8] {
        precondition(rgba.count == width * height * 4, "pixel buffer does not match the image size")
        var header: [UInt8] = []
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        header += [8, 6, 0, 0, 0]  // bit depth 8, RGBA, deflate, adaptive filtering, no interlace

        var png = signature
        png += chunk("IHDR", header)
        png += chunk("IDAT", Deflate.zlibCompress(filtered(width: width, height: height, rgba: rgba)))
        png += chunk("IEND", [])
        return png
    }

    /// Prefixes each row with the filter that makes it smallest (the usual
    /// minimum-sum-of-absolute-differences heuristic).
    private static func filtered(width: Int, height: Int, rgba: [UInt8]) -> [UInt8] {
        let rowBytes = width * 4
        var output: [UInt8] = []
        output.reserveCapacity((rowBytes + 1) * height)
        var candidate = [UInt8](repeating: 0, count: rowBytes)
        var best = [UInt8](repeating: 0, count: rowBytes)
        for row in 0..<height {
            let start = row * rowBytes
            var bestFilter: UInt8 = 0
            var bestScore = Int.max
            for filter in UInt8(0)...4 {
                var score = 0
                for i in 0..<rowBytes {
                    let x = rgba[start + i]
                    let a = i >= 4 ? rgba[start + i - 4] : 0
                    let b = row > 0 ? rgba[start + i - rowBytes] : 0
                    let c = (i >= 4 && row > 0) ? rgba[start + i - rowBytes - 4] : 0
                    let predicted: UInt8
                    switch filter {
                    case 0: predicted = 0
                    case 1: predicted = a
                    case 2: predicted = b
                    case 3: predicted = UInt8((Int(a) + Int(b)) / 2)
                    default: predicted = paeth(a, b, c)
                    }
                    let value = x &- predicted
                    candidate[i] = value
                    score += value < 128 ? Int(value) : 256 - Int(value)
                }
                if score < bestScore {
                    bestScore = score
                    bestFilter = filter
                    swap(&best, &candidate)
                }
            }
            output.append(bestFilter)
            output += best
        }
        return output
    }

    private static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        var bytes = bigEndian(UInt32(data.count))
        bytes += typeBytes
        bytes += data
        bytes += bigEndian(Checksum.crc32(typeBytes + data))
        return bytes
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
