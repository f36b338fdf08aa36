/// A compact zlib (RFC 1950) / deflate (RFC 1951) compressor: greedy LZ77 with hash chains,
/// coded with the fixed Huffman tables. Plots are mostly flat colour, which this handles well
/// without the complexity of dynamic Huffman tables.
enum Deflate {
    static func zlibCompress(_ data: [UInt8]) -> [UInt8] {
        var writer = BitWriter()
        // CMF 0x78: deflate with a 32 KiB window; FLG 0x01 makes the header a multiple of 31.
        writer.bytes = [0x78, 0x01]
        writer.writeBits(1, count: 1)  // BFINAL
        writer.writeBits(1, count: 2)  // BTYPE = fixed Huffman
        compress(data, into: &writer)
        writer.writeLiteralOrLength(256)
        writer.flush()
        let adler = Checksum.adler32(data)
        writer.bytes += [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
        return writer.bytes
    }

    private static let windowSize = 32768
    private static let minMatch = 3
    private static let maxMatch = 258
    private static let maxChain = 48
    private static let hashBits = 15

    private static func compress(_ data: [UInt8], into writer: inout BitWriter) {
        let count = data.count
        var head = [Int32](repeating: -1, count: 1 << hashBits)
        var previous = [Int32](repeating: -1, count: windowSize)
        let mask = windowSize - 1

        @inline(__always) func hash(_ position: Int) -> Int {
            let value = (Int(data[position]) << 16) | (Int(data[position + 1]) << 8) | Int(data[position + 2])
            return ((value &* 0x9E37_79B1) >> (32 - hashBits)) & ((1 << hashBits) - 1)
        }
        @inline(__always) func insert(_ position: Int) {
            let h = hash(position)
            previous[position & mask] = head[h]
            head[h] = Int32(position)
        }

        var position = 0
        while position < count {
            var bestLength = 0, bestDistance = 0
            if position + minMatch <= count {
                var candidate = Int(head[hash(position)])
                var chain = maxChain
                let limit = min(maxMatch, count - position)
                while candidate >= 0, position - candidate <= windowSize, chain > 0 {
                    if data[candidate + bestLength] == data[position + bestLength] || bestLength == 0 {
                        var length = 0
                        while length < limit, data[candidate + length] == data[position + length] {
                            length += 1
                        }
                        if length > bestLength {
                            bestLength = length
                            bestDistance = position - candidate
                            if length == limit { break }
                        }
                    }
                    let next = Int(previous[candidate & mask])
                    // Chains only go backwards; anything else is a stale slot from an older window.
                    if next >= candidate { break }
                    candidate = next
                    chain -= 1
                }
                insert(position)
            }
            if bestLength >= minMatch {
                writer.writeMatch(length: bestLength, distance: bestDistance)
                let end = position + bestLength
                position += 1
                while position < end {
                    if position + minMatch <= count { insert(position) }
                    position += 1
                }
            } else {
                writer.writeLiteralOrLength(Int(data[position]))
                position += 1
            }
        }
    }

    private static let lengthBases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                      35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtraBits = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                          3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBases = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
                                        257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
                                        8193, 12289, 16385, 24577]
    private static let distanceExtraBits = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
                                            7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// Length code index for each match length 3...258, precomputed.
    private static let lengthCodeIndex: [Int] = {
        var table = [Int](repeating: 0, count: 259)
        for length in 3...258 {
            var index = lengthBases.count - 1
            while lengthBases[index] > length { index -= 1 }
            table[length] = index
        }
        return table
    }()

    struct BitWriter {
        var bytes: [UInt8] = []
        private var buffer: UInt64 = 0
        private var bitCount = 0

        /// Appends `count` bits of `value`, least significant first.
        mutating func writeBits(_ value: Int, count: Int) {
            buffer |= UInt64(value) << UInt64(bitCount)
            bitCount += count
            while bitCount >= 8 {
                bytes.append(UInt8(buffer & 0xFF))
                buffer >>= 8
                bitCount -= 8
            }
        }

        /// Huffman codes are defined most significant bit first, so they are reversed.
        mutating func writeCode(_ code: Int, length: Int) {
            var reversed = 0
            for bit in 0..<length where code & (1 << bit) != 0 {
                reversed |= 1 << (length - 1 - bit)
            }
            writeBits(reversed, count: length)
        }

        mutating func writeLiteralOrLength(_ symbol: Int) {
            switch symbol {
            case 0...143: writeCode(0x30 + symbol, length: 8)
            case 144...255: writeCode(0x190 + symbol - 144, length: 9)
            case 256...279: writeCode(symbol - 256, length: 7)
            default: writeCode(0xC0 + symbol - 280, length: 8)
            }
        }

        mutating func writeMatch(length: Int, distance: Int) {
            let lengthIndex = Deflate.lengthCodeIndex[length]
            writeLiteralOrLength(257 + lengthIndex)
            writeBits(length - Deflate.lengthBases[lengthIndex], count: Deflate.lengthExtraBits[lengthIndex])
            var distanceIndex = Deflate.distanceBases.count - 1
            while Deflate.distanceBases[distanceIndex] > distance { distanceIndex -= 1 }
            writeCode(distanceIndex, length: 5)
            writeBits(distance - Deflate.distanceBases[distanceIndex], count: Deflate.distanceExtraBits[distanceIndex])
        }

        mutating func flush() {
            if bitCount > 0 {
                bytes.append(UInt8(buffer & 0xFF))
                buffer = 0
                bitCount = 0
            }
        }
    }
}
