import Foundation
import XCTest
@testable import TensorCore

final class SafeTensorsTests: XCTestCase {

    // MARK: - Round trips

    func testRoundTripPreservesShapesBitsAndMetadata() throws {
        let special: [Float] = [
            0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
            Float(bitPattern: 0x0001_16C2), .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            .pi, 1, -1, 3.5e-20, .nan, Float(bitPattern: 0x7FC0_1234),
        ]
        let tensors: [String: Tensor] = [
            "scalar": Tensor(scalar: -0.0),
            "cube": Tensor(shape: [2, 3, 4], scalars: (0..<24).map { Float($0) * 0.37 - 4 }),
            "special": Tensor(shape: [4, 4], scalars: special),
            "empty": Tensor(shape: [0], scalars: []),
            "empty.inner": Tensor(shape: [3, 0, 2], scalars: []),
            "layer.0/W \"quoted\" ünï": Tensor([5, 6, 7]),
        ]
        let metadata = ["format": "np", "note": "line one\nline \"two\"\t\u{1}", "ключ": "значение"]

        let decoded = try SafeTensors.decode(SafeTensors.encode(tensors, metadata: metadata))

        XCTAssertEqual(decoded.metadata, metadata)
        XCTAssertEqual(Set(decoded.tensors.keys), Set(tensors.keys))
        for (name, original) in tensors {
            let tensor = try XCTUnwrap(decoded.tensors[name])
            XCTAssertEqual(tensor.shape, original.shape, name)
            XCTAssertEqual(tensor.scalars.map(\.bitPattern), original.scalars.map(\.bitPattern), name)
        }
    }

    func testRoundTripWithoutTensorsOrMetadata() throws {
        let data = SafeTensors.encode([:])
        XCTAssertEqual(data, header("{}      "))
        XCTAssertEqual(try SafeTensors.decode(data), SafeTensorsFile())
    }

    func testEncodingIsDeterministic() {
        var first: [String: Tensor] = [:]
        var second: [String: Tensor] = [:]
        let names = (0..<40).map { "t\($0)" }
        for name in names { first[name] = Tensor([Float(name.count), 2]) }
        for name in names.reversed() { second[name] = Tensor([Float(name.count), 2]) }
        let metadata = ["b": "2", "a": "1", "c": "3"]
        XCTAssertEqual(SafeTensors.encode(first, metadata: metadata), SafeTensors.encode(first, metadata: metadata))
        XCTAssertEqual(SafeTensors.encode(first, metadata: metadata), SafeTensors.encode(second, metadata: metadata))
    }

    // MARK: - Byte layout

    func testByteLayoutOfOneTwoElementTensor() {
        let data = SafeTensors.encode(["w": Tensor([1, -2])])
        let json = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#  // 54 bytes
        XCTAssertEqual(json.utf8.count, 54)
        let bytes = [UInt8](data)

        XCTAssertEqual(Array(bytes[0..<8]), [56, 0, 0, 0, 0, 0, 0, 0], "header length: 54 bytes of JSON + 2 spaces")
        XCTAssertEqual(Array(bytes[8..<62]), Array(json.utf8))
        XCTAssertEqual(Array(bytes[62..<64]), [0x20, 0x20], "padding so the data starts at byte 64")
        XCTAssertEqual(Array(bytes[64...]), [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0], "1.0 and -2.0, little-endian F32")
        XCTAssertEqual(bytes.count, 72)
    }

    func testHeaderOrdersKeysAndPlacesTensorsContiguously() throws {
        let data = SafeTensors.encode(
            ["b": Tensor(shape: [1, 0], scalars: []), "a": Tensor(scalar: 3), "B": Tensor([1, 2])],
            metadata: ["z": "last", "format": "pt"])
        let length = Int(data.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        XCTAssertEqual((8 + length) % 8, 0)
        let headerText = try XCTUnwrap(String(data: data.subdata(in: 8 ..< 8 + length), encoding: .utf8))
        let expected = #"{"__metadata__":{"format":"pt","z":"last"},"# +
            #""B":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"# +
            #""a":{"dtype":"F32","shape":[],"data_offsets":[8,12]},"# +
            #""b":{"dtype":"F32","shape":[1,0],"data_offsets":[12,12]}}"#
        XCTAssertEqual(headerText.trimmingCharacters(in: .whitespaces), expected)
        XCTAssertTrue(headerText.dropFirst(expected.utf8.count).allSatisfy { $0 == " " })
        XCTAssertEqual(data.count, 8 + length + 12)
    }

    // MARK: - Other dtypes, files built by hand

    func testReadsF64() throws {
        let values: [Double] = [1.5, -2.25, 1e300, 1e-50]
        let file = try decode(header(#"{"x":{"dtype":"F64","shape":[2,2],"data_offsets":[0,32]}}"#,
                                     data: values.flatMap { littleEndianBytes($0.bitPattern) }))
        XCTAssertEqual(file.tensors["x"]?.shape, [2, 2])
        XCTAssertEqual(file.tensors["x"]?.scalars, [1.5, -2.25, .infinity, 0])
    }

    func testReadsF16IncludingSpecialValues() throws {
        let bits: [UInt16] = [0x3C00, 0xC000, 0x7C00, 0xFC00, 0x0001, 0x03FF, 0x7BFF, 0x8000, 0x3555]
        let expected: [Float] = [1, -2, .infinity, -.infinity, 0x1p-24, 1023 * 0x1p-24, 65504, -0.0, 0.333251953125]
        let file = try decode(header(#"{"h":{"dtype":"F16","shape":[9],"data_offsets":[0,18]}}"#,
                                     data: bits.flatMap(littleEndianBytes)))
        XCTAssertEqual(file.tensors["h"]?.scalars.map(\.bitPattern), expected.map(\.bitPattern))
    }

    func testHalfConversionIsExactForEveryBitPattern() throws {
        #if arch(x86_64) && (os(macOS) || targetEnvironment(macCatalyst))
        throw XCTSkip("Float16 is unavailable on macOS x86_64, so there is no reference to compare with")
        #else
        for bits in UInt16.min...UInt16.max {
            let reference = Float(Float16(bitPattern: bits))
            let converted = SafeTensors.floatFromHalf(bits)
            if reference.isNaN {
                XCTAssertTrue(converted.isNaN, "0x\(String(bits, radix: 16))")
            } else if reference.bitPattern != converted.bitPattern {
                XCTFail("0x\(String(bits, radix: 16)): expected \(reference), got \(converted)")
                return
            }
        }
        #endif
    }

    func testReadsBF16AsRank0AndVector() throws {
        let file = try decode(header(
            #"{"s":{"dtype":"BF16","shape":[],"data_offsets":[0,2]},"v":{"dtype":"BF16","shape":[3],"data_offsets":[2,8]}}"#,
            data: [UInt16](arrayLiteral: 0x3F80, 0xC040, 0x7F80, 0x0001).flatMap(littleEndianBytes)))
        XCTAssertEqual(file.tensors["s"], Tensor(scalar: 1))
        XCTAssertEqual(file.tensors["v"]?.scalars, [-3, .infinity, Float(bitPattern: 0x0001_0000)])
    }

    func testReadsIntegerAndBoolDtypes() throws {
        let i32 = [Int32(-7), .max].flatMap { littleEndianBytes(UInt32(bitPattern: $0)) }
        let i64 = littleEndianBytes(UInt64(bitPattern: -(1 << 40)))
        let json = #"{"i32":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},"# +
            #""i64":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},"# +
            #""u8":{"dtype":"U8","shape":[2],"data_offsets":[16,18]},"# +
            #""flags":{"dtype":"BOOL","shape":[3],"data_offsets":[18,21]}}"#
        let file = try decode(header(json, data: i32 + i64 + [0, 255] + [0, 1, 2]))
        XCTAssertEqual(file.tensors["i32"]?.scalars, [-7, 2_147_483_648])
        XCTAssertEqual(file.tensors["i64"]?.scalars, [-1_099_511_627_776])
        XCTAssertEqual(file.tensors["u8"]?.scalars, [0, 255])
        XCTAssertEqual(file.tensors["flags"]?.scalars, [0, 1, 1])
    }

    func testAcceptsUnpaddedHeaderWhitespaceAndEscapes() throws {
        let json = "\n{ \"\\u00e9t\\u00E9\\ud83d\\ude00\" : {\"shape\":[1], \"data_offsets\" : [0, 4], \"dtype\":\"F32\"},"
            + "\"__metadata__\":{\"k\\n\":\"\\\"v\\/\"} }\t"
        let file = try decode(header(json, data: littleEndianBytes(Float(2.5).bitPattern), padded: false))
        XCTAssertEqual(file.tensors["été😀"], Tensor([2.5]))
        XCTAssertEqual(file.metadata, ["k\n": "\"v/"])
    }

    // MARK: - Malformed input

    func testTruncatedMessageNamesBothSizes() {
        var data = Data(littleEndianBytes(UInt64(812)))
        data.append(Data(repeating: 0x20, count: 40))
        XCTAssertThrowsError(try SafeTensors.decode(data, source: "model.safetensors")) { error in
            XCTAssertEqual("\(error)", "model.safetensors: truncated: header says 812 bytes of JSON but the file has 40 bytes after the length prefix")
            XCTAssertEqual(error.localizedDescription, "\(error)")
            XCTAssertEqual((error as? IOError)?.kind, .truncated)
        }
    }

    func testEveryMalformedFileThrowsAOneLineExplanation() {
        func offsets(_ a: Int, _ b: Int) -> String { "[\(a),\(b)]" }
        let f32x2 = [UInt8](repeating: 0, count: 8)
        let cases: [(name: String, data: Data, kind: IOError.Kind, mentions: [String])] = [
            ("short file", Data([1, 2, 3]), .truncated, ["3 bytes", "8-byte header length"]),
            ("empty file", Data(), .truncated, ["0 bytes"]),
            ("absurd header length", Data(littleEndianBytes(UInt64.max)) + Data(count: 16), .invalidHeader, ["18446744073709551615", "limit"]),
            ("header over 100 MB", Data(littleEndianBytes(UInt64(100_000_001))), .invalidHeader, ["100000001", "limit of 100000000"]),
            ("empty header", header("", padded: false), .invalidHeader, ["not valid JSON", "end of header"]),
            ("not JSON", header("{not json}"), .invalidHeader, ["not valid JSON", "character 'n'", "string key"]),
            ("unterminated", header(#"{"a":{"dtype":"F32""#), .invalidHeader, ["not valid JSON"]),
            ("trailing garbage", header(#"{} x"#), .invalidHeader, ["after the end of the top-level value"]),
            ("bad UTF-8", header("{\"\u{FF}\":1}").replacingByte(at: 10, with: 0xFF), .invalidHeader, ["UTF-8"]),
            ("lone surrogate", header(#"{"\udc00":1}"#), .invalidHeader, ["surrogate"]),
            ("raw control char", header("{\"a\u{1}\":1}"), .invalidHeader, ["control character"]),
            ("deep nesting", header(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)),
             .invalidHeader, ["nesting deeper than 64"]),
            ("top level array", header("[1, 2]"), .invalidHeader, ["must be a JSON object", "got [1, 2]"]),
            ("duplicate key", header(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{}}"#), .invalidHeader, ["repeats the key \"a\""]),
            ("duplicate field", header(#"{"a":{"dtype":"F32","dtype":"F32"}}"#), .invalidHeader, ["repeats the key \"dtype\""]),
            ("entry not object", header(#"{"a":[1]}"#), .invalidHeader, ["tensor \"a\"", "expected an object", "got [1]"]),
            ("missing dtype", header(#"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, data: f32x2), .invalidHeader, ["tensor \"a\"", "missing field \"dtype\""]),
            ("missing shape", header(#"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, data: f32x2), .invalidHeader, ["missing field \"shape\""]),
            ("missing offsets", header(#"{"a":{"dtype":"F32","shape":[2]}}"#, data: f32x2), .invalidHeader, ["missing field \"data_offsets\""]),
            ("unknown field", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}"#, data: f32x2), .invalidHeader, ["unknown field \"extra\""]),
            ("dtype not string", header(#"{"a":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}"#, data: f32x2), .invalidHeader, ["\"dtype\" must be a string", "got 32"]),
            ("unknown dtype", header(#"{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#, data: [0, 0]), .unsupportedDType, ["unsupported dtype \"F8_E4M3\"", "F32, F16, BF16"]),
            ("lower-case dtype", header(#"{"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}}"#, data: f32x2), .unsupportedDType, ["\"f32\""]),
            ("shape not array", header(#"{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}"#, data: f32x2), .invalidHeader, ["\"shape\" must be an array", "got 2"]),
            ("fractional extent", header(#"{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, data: f32x2), .invalidHeader, ["non-negative integers", "[2.0]"]),
            ("bool extent", header(#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#), .invalidHeader, ["non-negative integers", "[true]"]),
            ("huge extent", header(#"{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}"#), .invalidHeader, ["fits in 64 bits"]),
            ("negative extent", header(#"{"a":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]}}"#, data: f32x2), .invalidLayout, ["negative extent -1 at axis 1"]),
            ("overflowing shape", header(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}"#), .invalidLayout, ["too large", "overflows"]),
            ("overflowing bytes", header(#"{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}}"#), .invalidLayout, ["byte count overflows"]),
            ("offsets wrong arity", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}}"#, data: f32x2), .invalidHeader, ["[begin, end]", "got [8]"]),
            ("offset as string", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,"8"]}}"#, data: f32x2), .invalidHeader, ["two non-negative integer", "[0, \"8\"]"]),
            ("negative offset", header(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[-4,-4]}}"#), .invalidHeader, ["non-negative"]),
            ("huge offset", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551615,8]}}"#, data: f32x2), .invalidHeader, ["data_offsets"]),
            ("end before begin", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: f32x2), .invalidLayout, ["[8, 0] end before they begin"]),
            ("past buffer", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), .truncated, ["ends at byte 8", "only 4 data bytes"]),
            ("size mismatch", header(#"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}}"#, data: f32x2), .invalidLayout, ["span 8 bytes", "needs 16 bytes (4 elements × 4 bytes)"]),
            ("overlap", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: f32x2), .invalidLayout, ["\"a\" and \"b\" overlap at bytes 4..<8"]),
            ("empty tensor inside another", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}"#, data: f32x2), .invalidLayout, ["overlap"]),
            ("gap between", header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, data: f32x2 + [0, 0, 0, 0]), .invalidLayout, ["bytes 4..<8", "between tensors \"a\" and \"b\"", "belong to no tensor"]),
            ("gap at start", header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: f32x2), .invalidLayout, ["bytes 0..<4", "before tensor \"a\""]),
            ("trailing data", header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: f32x2), .invalidLayout, ["4 bytes (4..<8)", "after the last tensor \"a\""]),
            ("data but no tensors", header("{}", data: [1, 2]), .invalidLayout, ["2 bytes", "lists no tensors"]),
            ("metadata not object", header(#"{"__metadata__":"x"}"#), .invalidHeader, ["\"__metadata__\" must be an object", "got \"x\""]),
            ("metadata value not string", header(#"{"__metadata__":{"epoch":3}}"#), .invalidHeader, ["key \"epoch\" must be a string", "got 3"]),
            ("newline in name", header(#"{"a\nb":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#), .truncated, ["tensor \"a\\nb\""]),
        ]
        for testCase in cases {
            XCTAssertThrowsError(try SafeTensors.decode(testCase.data, source: "bad.safetensors"), testCase.name) { error in
                guard let error = error as? IOError else { return XCTFail("\(testCase.name): not an IOError: \(error)") }
                let text = error.description
                XCTAssertEqual(error.kind, testCase.kind, "\(testCase.name): \(text)")
                XCTAssertTrue(text.hasPrefix("bad.safetensors: "), "\(testCase.name): \(text)")
                XCTAssertFalse(text.contains("\n") || text.contains("\r"), "\(testCase.name): message spans lines: \(text)")
                XCTAssertLessThan(text.count, 400, "\(testCase.name): \(text)")
                for fragment in testCase.mentions {
                    XCTAssertTrue(text.contains(fragment), "\(testCase.name): «\(text)» does not mention «\(fragment)»")
                }
            }
        }
    }

    func testTruncatedDataOfAValidFileIsReportedAsTruncated() {
        let data = SafeTensors.encode(["w": Tensor(zeros: [4, 4])])
        for cut in [1, 5, 63] {
            XCTAssertThrowsError(try SafeTensors.decode(data.dropLast(cut))) { error in
                XCTAssertEqual((error as? IOError)?.kind, .truncated, "\(error)")
            }
        }
    }

    func testDecodesFromDataSlicesWithNonZeroStartIndex() throws {
        let bytes = Data([9, 9, 9]) + SafeTensors.encode(["w": Tensor([1, 2, 3])])
        XCTAssertEqual(try SafeTensors.decode(bytes.dropFirst(3)).tensors["w"], Tensor([1, 2, 3]))
    }

    // MARK: - Files

    func testWriteThenReadFile() throws {
        let directory = try makeTemporaryDirectory()
        let url = directory.appendingPathComponent("model.safetensors")
        let tensors = ["w": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), "b": Tensor([0.5, -0.5])]
        try SafeTensors.write(tensors, metadata: ["step": "100"], to: url)
        XCTAssertEqual(try SafeTensors.read(from: url), SafeTensorsFile(tensors: tensors, metadata: ["step": "100"]))
        XCTAssertEqual(try Data(contentsOf: url), SafeTensors.encode(tensors, metadata: ["step": "100"]))
    }

    func testReadingMissingFileOrDirectoryThrowsClearly() throws {
        let directory = try makeTemporaryDirectory()
        let missing = directory.appendingPathComponent("nope.safetensors")
        XCTAssertThrowsError(try SafeTensors.read(from: missing)) { error in
            XCTAssertEqual("\(error)", "\(missing.path): cannot read: no such file")
        }
        XCTAssertThrowsError(try SafeTensors.read(from: directory)) { error in
            XCTAssertTrue("\(error)".contains("is a directory"), "\(error)")
        }
        let bad = directory.appendingPathComponent("bad.safetensors")
        try Data([1, 2]).write(to: bad)
        XCTAssertThrowsError(try SafeTensors.read(from: bad)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(bad.path): truncated:"), "\(error)")
        }
    }

    // MARK: - Atomic writes

    func testAtomicWriteReplacesContentAndLeavesNoTemporaryFile() throws {
        let directory = try makeTemporaryDirectory()
        let url = directory.appendingPathComponent("a.bin")
        try AtomicFile.write(Data(repeating: 7, count: 1000), to: url)
        try AtomicFile.write(Data([1, 2, 3]), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data([1, 2, 3]))
        try AtomicFile.write(Data(), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["a.bin"])
    }

    func testAtomicWriteKeepsPermissionsOfReplacedFile() throws {
        let directory = try makeTemporaryDirectory()
        let url = directory.appendingPathComponent("secret.bin")
        try AtomicFile.write(Data([1]), to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        try AtomicFile.write(Data([2]), to: url)
        let permissions = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        XCTAssertEqual(permissions, 0o600)
    }

    func testInterruptedWriteKeepsExistingFileAndRemovesTemporaryFile() throws {
        struct Interruption: Error {}
        let directory = try makeTemporaryDirectory()
        let url = directory.appendingPathComponent("model.safetensors")
        let original = SafeTensors.encode(["w": Tensor([1, 2])])
        try AtomicFile.write(original, to: url)

        var temporary: URL?
        XCTAssertThrowsError(try AtomicFile.write(Data(repeating: 0, count: 4096), to: url) { finished in
            temporary = finished
            XCTAssertEqual(try Data(contentsOf: finished).count, 4096, "the temporary file is complete before the rename")
            XCTAssertTrue(finished.lastPathComponent.hasPrefix(".model.safetensors.tmp-"), finished.lastPathComponent)
            throw Interruption()
        }) { error in
            XCTAssertTrue(error is Interruption)
        }
        XCTAssertNotNil(temporary)
        XCTAssertEqual(try Data(contentsOf: url), original)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.safetensors"])
    }

    func testDirectoryInTheWayIsNeitherReplacedNorTouched() throws {
        let directory = try makeTemporaryDirectory()
        let inTheWay = directory.appendingPathComponent("out.safetensors")
        try FileManager.default.createDirectory(at: inTheWay, withIntermediateDirectories: false)
        try Data([42]).write(to: inTheWay.appendingPathComponent("keep.txt"))

        XCTAssertThrowsError(try SafeTensors.write(["w": Tensor([1])], to: inTheWay)) { error in
            XCTAssertEqual((error as? IOError)?.kind, .fileSystem)
            XCTAssertEqual("\(error)", "\(inTheWay.path): cannot write: a directory is in the way; expected a path to a regular file")
        }
        XCTAssertEqual(try Data(contentsOf: inTheWay.appendingPathComponent("keep.txt")), Data([42]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["out.safetensors"])
    }

    func testWritingIntoMissingOrRemovedDirectoryThrowsClearly() throws {
        let directory = try makeTemporaryDirectory()
        let nested = directory.appendingPathComponent("runs/1/model.safetensors")
        XCTAssertThrowsError(try SafeTensors.write(["w": Tensor([1])], to: nested)) { error in
            XCTAssertEqual((error as? IOError)?.kind, .fileSystem)
            XCTAssertTrue("\(error)".contains("directory \(directory.path)/runs/1 does not exist; create it first"), "\(error)")
        }

        let removed = directory.appendingPathComponent("removed")
        try AtomicFile.createDirectory(at: removed)
        try AtomicFile.write(Data([1]), to: removed.appendingPathComponent("x.bin"))
        try FileManager.default.removeItem(at: removed)
        XCTAssertThrowsError(try AtomicFile.write(Data([2]), to: removed.appendingPathComponent("x.bin"))) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
        }

        let file = directory.appendingPathComponent("plain.txt")
        try AtomicFile.write(Data([1]), to: file)
        XCTAssertThrowsError(try AtomicFile.write(Data([2]), to: file.appendingPathComponent("x.bin"))) { error in
            XCTAssertTrue("\(error)".contains("does not exist") || "\(error)".contains("not a directory"), "\(error)")
        }
    }

    func testWritingIntoUnwritableDirectoryThrowsAndKeepsExistingFile() throws {
        guard getuid() != 0 else {
            throw XCTSkip("running as root, which ignores directory permissions; the interrupted-write test covers file preservation")
        }
        let directory = try makeTemporaryDirectory()
        let url = directory.appendingPathComponent("model.safetensors")
        try AtomicFile.write(Data([1, 2, 3]), to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: directory.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path) }

        XCTAssertThrowsError(try AtomicFile.write(Data([9]), to: url)) { error in
            XCTAssertTrue("\(error)".contains("is not writable"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: url), Data([1, 2, 3]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.safetensors"])
    }

    func testCreateDirectoryMakesParentsAndReportsFilesInTheWay() throws {
        let directory = try makeTemporaryDirectory()
        let nested = directory.appendingPathComponent("a/b/c")
        try AtomicFile.createDirectory(at: nested)
        try AtomicFile.createDirectory(at: nested)  // already there: no error
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: nested.path, isDirectory: &isDirectory) && isDirectory.boolValue)

        let file = directory.appendingPathComponent("file")
        try AtomicFile.write(Data([1]), to: file)
        XCTAssertThrowsError(try AtomicFile.createDirectory(at: file.appendingPathComponent("sub"))) { error in
            XCTAssertEqual((error as? IOError)?.kind, .fileSystem)
            XCTAssertTrue("\(error)".contains("\(file.path) exists and is not a directory"), "\(error)")
        }
    }

    // MARK: - Interoperability

    /// Parses our file with nothing but `json` and `numpy`, exactly as the format is specified,
    /// and compares shapes and a checksum of the raw float bits; also cross-checks with the
    /// reference `safetensors` package when it happens to be installed.
    func testNumpyReadsWrittenFile() throws {
        guard run(["python3", "-c", "import numpy"]).status == 0 else {
            throw XCTSkip("python3 with numpy is not available; install numpy to check interoperability")
        }
        let directory = try makeTemporaryDirectory()
        let url = directory.appendingPathComponent("interop.safetensors")
        let tensors: [String: Tensor] = [
            "scalar": Tensor(scalar: -0.0),
            "w": Tensor(shape: [3, 2, 4], scalars: (0..<24).map { sin(Float($0)) * 1e3 }),
            "b": Tensor([.infinity, -.leastNonzeroMagnitude, .greatestFiniteMagnitude]),
            "none": Tensor(shape: [2, 0], scalars: []),
        ]
        try SafeTensors.write(tensors, metadata: ["format": "np"], to: url)

        let script = #"""
        import json, sys, numpy as np
        raw = open(sys.argv[1], "rb").read()
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + n].decode("utf-8"))
        assert (8 + n) % 8 == 0, "data not aligned"
        meta = header.pop("__metadata__", {})
        start = 8 + n
        out = {"__metadata__": meta}
        for name, info in header.items():
            assert info["dtype"] == "F32"
            b, e = info["data_offsets"]
            a = np.frombuffer(raw, dtype="<f4", count=(e - b) // 4, offset=start + b).reshape(info["shape"])
            out[name] = {"shape": list(a.shape), "checksum": int(a.view("<u4").astype(np.uint64).sum() % (1 << 32))}
        try:
            from safetensors.numpy import load_file
            for name, a in load_file(sys.argv[1]).items():
                assert list(a.shape) == out[name]["shape"] and a.dtype == np.float32, name
                assert int(a.view("<u4").astype(np.uint64).sum() % (1 << 32)) == out[name]["checksum"], name
            out["__checked_with_safetensors__"] = True
        except ImportError:
            pass
        print(json.dumps(out))
        """#
        let result = run(["python3", "-c", script, url.path])
        XCTAssertEqual(result.status, 0, result.output)
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], result.output)
        XCTAssertEqual(parsed["__metadata__"] as? [String: String], ["format": "np"])
        for (name, tensor) in tensors {
            let entry = try XCTUnwrap(parsed[name] as? [String: Any], name)
            XCTAssertEqual(entry["shape"] as? [Int], tensor.shape, name)
            let checksum = tensor.scalars.reduce(UInt32(0)) { $0 &+ $1.bitPattern }
            XCTAssertEqual((entry["checksum"] as? NSNumber)?.uint32Value, checksum, name)
        }
    }

    // MARK: - Helpers

    /// A file made of the length prefix, `json` (space-padded to 8-byte alignment unless told
    /// otherwise) and `data`.
    private func header(_ json: String, data: [UInt8] = [], padded: Bool = true) -> Data {
        var bytes = Array(json.utf8)
        if padded { bytes += Array(repeating: 0x20, count: (8 - bytes.count % 8) % 8) }
        return Data(littleEndianBytes(UInt64(bytes.count)) + bytes + data)
    }

    private func decode(_ data: Data) throws -> SafeTensorsFile {
        try SafeTensors.decode(data, source: "test.safetensors")
    }

    private func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func run(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

private func littleEndianBytes<Word: FixedWidthInteger>(_ word: Word) -> [UInt8] {
    withUnsafeBytes(of: word.littleEndian) { Array($0) }
}

private extension Data {
    func replacingByte(at offset: Int, with byte: UInt8) -> Data {
        var copy = self
        copy[copy.startIndex + offset] = byte
        return copy
    }
}
