import Foundation

/// An independent PNG decoder for tests: it re-checks CRCs, inflates the zlib stream
/// (stored and fixed-Huffman blocks, which is all the encoder emits) and undoes row filters.
struct PNGReader {
    struct Chunk {
        var type: String
        var data: [UInt8]
        var storedCRC: UInt32
        var computedCRC: UInt32
    }

    enum Failure: Error, Equatable {
        case badSignature, truncated, badChunkCRC(String), badZlibHeader, unsupportedBlock(Int), badCode, badAdler, badFilter
    }

    var chunks: [Chunk] = []
    var width = 0
    var height = 0
    var bitDepth = 0
    var colorType = 0
    /// RGBA bytes after unfiltering.
    var pixels: [UInt8] = []

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count >= 8, Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw Failure.badSignature
        }
        var offset = 8
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw Failure.truncated }
            let length = Int(Self.uint32(bytes, offset))
            guard offset + 12 + length <= bytes.count else { throw Failure.truncated }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            let stored = Self.uint32(bytes, offset + 8 + length)
            let computed = Self.crc32(Array(bytes[(offset + 4)..<(offset + 8 + length)]))
            chunks.append(Chunk(type: type, data: body, storedCRC: stored, computedCRC: computed))
            guard stored == computed else { throw Failure.badChunkCRC(type) }
            offset += 12 + length
        }
        guard let header = chunks.first, header.type == "IHDR", header.data.count == 13 else { throw Failure.truncated }
        width = Int(Self.uint32(header.data, 0))
        height = Int(Self.uint32(header.data, 4))
        bitDepth = Int(header.data[8])
        colorType = Int(header.data[9])
        let compressed = chunks.filter { $0.type == "IDAT" }.flatMap(\.data)
        let raw = try Self.zlibInflate(compressed)
        pixels = try Self.unfilter(raw, width: width, height: height)
    }

    func pixel(x: Int, y: Int) -> [UInt8] {
        let index = (y * width + x) * 4
        return Array(pixels[index..<(index + 4)])
    }

    static func uint32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (UInt32(bytes[offset]) << 24) | (UInt32(bytes[offset + 1]) << 16) | (UInt32(bytes[offset + 2]) << 8) | UInt32(bytes[offset + 3])
    }

    /// Bitwise CRC-32, deliberately different from the table-driven one under test.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0)
            }
        }
        return ~crc
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return (b << 16) | a
    }

    static func zlibInflate(_ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.count >= 6, bytes[0] & 0x0F == 8, (Int(bytes[0]) * 256 + Int(bytes[1])) % 31 == 0 else {
            throw Failure.badZlibHeader
        }
        var reader = BitReader(bytes: bytes, position: 2)
        var output: [UInt8] = []
        var final = false
        while !final {
            final = try reader.bits(1) == 1
            let type = try reader.bits(2)
            switch type {
            case 0:
                reader.alignToByte()
                let length = try reader.bits(16)
                _ = try reader.bits(16)
                for _ in 0..<length { output.append(UInt8(try reader.bits(8))) }
            case 1:
                try inflateFixed(&reader, into: &output)
            default:
                throw Failure.unsupportedBlock(type)
            }
        }
        reader.alignToByte()
        let stored = try (0..<4).reduce(UInt32(0)) { value, _ in (value << 8) | UInt32(try reader.bits(8)) }
        guard stored == adler32(output) else { throw Failure.badAdler }
        return output
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// Decodes one symbol of the fixed literal/length code by reading it bit by bit (RFC 1951 §3.2.6).
    private static func fixedSymbol(_ reader: inout BitReader) throws -> Int {
        var code = 0
        for length in 1...9 {
            code = (code << 1) | (try reader.bits(1))
            switch length {
            case 7 where code <= 0b0010111: return 256 + code
            case 8 where (0b0011_0000...0b1011_1111).contains(code): return code - 0b0011_0000
            case 8 where (0b1100_0000...0b1100_0111).contains(code): return 280 + code - 0b1100_0000
            case 9 where (0b1_1001_0000...0b1_1111_1111).contains(code): return 144 + code - 0b1_1001_0000
            default: continue
            }
        }
        throw Failure.badCode
    }

    private static func inflateFixed(_ reader: inout BitReader, into output: inout [UInt8]) throws {
        while true {
            let symbol = try fixedSymbol(&reader)
            if symbol < 256 {
                output.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let index = symbol - 257
                guard index < lengthBase.count else { throw Failure.badCode }
                let length = lengthBase[index] + (try reader.bits(lengthExtra[index]))
                var distanceCode = 0
                for _ in 0..<5 { distanceCode = (distanceCode << 1) | (try reader.bits(1)) }
                guard distanceCode < distanceBase.count else { throw Failure.badCode }
                let distance = distanceBase[distanceCode] + (try reader.bits(distanceExtra[distanceCode]))
                guard distance <= output.count else { throw Failure.badCode }
                for _ in 0..<length { output.append(output[output.count - distance]) }
            }
        }
    }

    private static func unfilter(_ raw: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        let stride = width * 4
        guard raw.count == (stride + 1) * height else { throw Failure.truncated }
        var out = [UInt8](repeating: 0, count: stride * height)
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            for i in 0..<stride {
                let x = Int(raw[row * (stride + 1) + 1 + i])
                let a = i >= 4 ? Int(out[row * stride + i - 4]) : 0
                let b = row > 0 ? Int(out[(row - 1) * stride + i]) : 0
                let c = (i >= 4 && row > 0) ? Int(out[(row - 1) * stride + i - 4]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                default: throw Failure.badFilter
                }
                out[row * stride + i] = UInt8((x + predicted) & 0xFF)
            }
        }
        return out
    }

    struct BitReader {
        let bytes: [UInt8]
        var position: Int
        var bit = 0

        /// `count` bits, least significant first (how deflate packs non-Huffman fields).
        mutating func bits(_ count: Int) throws -> Int {
            var value = 0
            for index in 0..<count {
                guard position < bytes.count else { throw Failure.truncated }
                let b = (Int(bytes[position]) >> bit) & 1
                value |= b << index
                bit += 1
                if bit == 8 {
                    bit = 0
                    position += 1
                }
            }
            return value
        }

        mutating func alignToByte() {
            if bit != 0 {
                bit = 0
                position += 1
            }
        }
    }
}
