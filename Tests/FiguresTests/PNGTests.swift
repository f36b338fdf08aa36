import Foundation
import Testing
@testable import Figures

@Suite struct PNGTests {
    @Test func simpleSceneDecodesToExpectedPixels() throws {
        let scene = Scene(size: Size(width: 40, height: 30), background: .white, primitives: [
            .rect(Rect(x: 10, y: 10, width: 10, height: 10), fill: Color(hex: 0xFF0000)),
            .circle(center: Point(32, 8), radius: 4, fill: Color(hex: 0x0000FF)),
            .line(from: Point(0, 28), to: Point(40, 28), stroke: Stroke(.black, width: 2)),
        ])
        let png = try PNGReader(Figure(scene: scene).pngData(scale: 2))
        #expect(png.width == 80 && png.height == 60)
        #expect(png.bitDepth == 8 && png.colorType == 6)
        #expect(png.chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
        #expect(png.pixel(x: 0, y: 0) == [255, 255, 255, 255])
        #expect(png.pixel(x: 30, y: 30) == [255, 0, 0, 255])  // inside the red square (20...40 px)
        #expect(png.pixel(x: 64, y: 16) == [0, 0, 255, 255])  // centre of the blue circle
        #expect(png.pixel(x: 40, y: 56) == [0, 0, 0, 255])  // on the 4 px thick line at y = 54...58
        // Anti-aliasing: the circle's edge has intermediate values.
        let edge = (0..<80).map { png.pixel(x: $0, y: 16)[0] }
        #expect(edge.contains { $0 > 0 && $0 < 255 })
    }

    @Test func transparentBackgroundStaysTransparent() throws {
        let scene = Scene(size: Size(width: 4, height: 4), background: nil)
        let png = try PNGReader(Figure(scene: scene).pngData(scale: 1))
        #expect(png.pixel(x: 1, y: 1)[3] == 0)
    }

    @Test(arguments: SampleCharts.all.map(\.name))
    func everyChartEncodesAValidPNG(name: String) throws {
        let chart = try #require(SampleCharts.all.first { $0.name == name }?.chart)
        let figure = chart.figure(width: 300, height: 220)
        let png = try PNGReader(figure.pngData(scale: 1.5))
        #expect(png.width == 450 && png.height == 330)
        // Not blank: the chart drew something dark (text, axes) on the white background.
        #expect(stride(from: 0, to: png.pixels.count, by: 4).contains { png.pixels[$0] < 100 })
    }

    @Test func checksumsMatchKnownValues() {
        #expect(Checksum.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Checksum.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(Checksum.adler32([]) == 1)
        let large = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(Checksum.adler32(large) == PNGReader.adler32(large))
        #expect(Checksum.crc32(large) == PNGReader.crc32(large))
    }

    @Test func deflateRoundTrips() throws {
        let inputs: [[UInt8]] = [
            [],
            [42],
            Array("abcabcabcabcabcabc hello hello hello".utf8),
            [UInt8](repeating: 255, count: 100_000),
            (0..<70_000).map { UInt8(truncatingIfNeeded: ($0 * 31) ^ ($0 >> 3)) },
        ]
        for input in inputs {
            let compressed = Deflate.zlibCompress(input)
            #expect(try PNGReader.zlibInflate(compressed) == input)
        }
        #expect(Deflate.zlibCompress([UInt8](repeating: 255, count: 100_000)).count < 2_000)
    }
}
