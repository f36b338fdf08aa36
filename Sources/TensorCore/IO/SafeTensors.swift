import Foundation

/// The contents of a safetensors file: named tensors plus optional string metadata.
public struct SafeTensorsFile: Equatable, Sendable {
    /// Tensors by name, converted to `Float` whatever dtype the file stored them in.
    public var tensors: [String: Tensor]
    /// The free-form `__metadata__` map; empty when the file has none.
    public var metadata: [String: String]

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }
}

/// Reading and writing the safetensors format used by Hugging Face `safetensors`.
///
/// Layout: an 8-byte little-endian `UInt64` header length `N`; `N` bytes of UTF-8 JSON
/// `{"__metadata__": {...}, "<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`
/// padded with spaces so the data starts at a multiple of 8 bytes; then the raw little-endian
/// data buffer. Offsets are in bytes from the start of the data buffer, and the tensors must
/// tile that buffer exactly, without gaps or overlaps.
public enum SafeTensors {
    /// Headers longer than this (in bytes) are rejected, as the reference implementation does,
    /// so a corrupt length prefix cannot make the reader allocate gigabytes.
    public static let maximumHeaderLength = 100_000_000

    /// The reserved header key holding string metadata; no tensor may use this name.
    public static let metadataKey = "__metadata__"

    // MARK: Writing

    /// The bytes of a safetensors file holding `tensors` as `F32`.
    ///
    /// The output depends only on the arguments: tensors are laid out, and header keys written,
    /// in byte-wise order of their UTF-8 names, with compact JSON and no timestamps. Metadata is
    /// omitted from the header when empty.
    /// - Precondition: no tensor is named `"__metadata__"` (a programming error otherwise).
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        precondition(tensors[metadataKey] == nil, "a tensor may not be named \(metadataKey); the key is reserved for metadata")
        let ordered = tensors.sorted { utf8Order($0.key, $1.key) }

        var json = "{"
        if !metadata.isEmpty {
            appendJSONString(metadataKey, to: &json)
            json += ":{"
            for (index, (key, value)) in metadata.sorted(by: { utf8Order($0.key, $1.key) }).enumerated() {
                if index > 0 { json += "," }
                appendJSONString(key, to: &json)
                json += ":"
                appendJSONString(value, to: &json)
            }
            json += "}"
        }
        var offset = 0
        for (index, (name, tensor)) in ordered.enumerated() {
            if index > 0 || !metadata.isEmpty { json += "," }
            let end = offset + tensor.count * DType.f32.byteWidth
            appendJSONString(name, to: &json)
            json += ":{\"dtype\":\"F32\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],"
            json += "\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"

        var header = Array(json.utf8)
        // Pad so the data buffer starts 8-byte aligned (8 + N ≡ 0 mod 8), as the format requires.
        header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for (_, tensor) in ordered {
            #if _endian(little)
            tensor.scalars.withUnsafeBytes { data.append(contentsOf: $0) }
            #else
            for scalar in tensor.scalars {
                withUnsafeBytes(of: scalar.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
            #endif
        }
        return data
    }

    /// Writes `tensors` (as `F32`) and `metadata` to `url` atomically; see `encode` and `AtomicFile.write`.
    /// - Throws: `IOError` of kind `.fileSystem` when the file cannot be written.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try AtomicFile.write(encode(tensors, metadata: metadata), to: url)
    }

    // MARK: Reading

    /// Reads and validates the safetensors file at `url`.
    /// - Throws: `IOError` whose description starts with the file's path.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw IOError(.fileSystem, path: path, "cannot read: no such file")
        }
        guard !isDirectory.boolValue else {
            throw IOError(.fileSystem, path: path, "cannot read: this is a directory; expected a .safetensors file")
        }
        let data: Data
        do {
            // Not memory-mapped: a file truncated by another process while mapped would crash us with SIGBUS.
            data = try Data(contentsOf: url)
        } catch {
            throw IOError(.fileSystem, path: path, "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, source: path)
    }

    /// Parses and validates the bytes of a safetensors file.
    ///
    /// Accepted dtypes are F64, F32, F16, BF16, I64, I32, U8 and BOOL; all are converted to `Float`
    /// (values outside `Float` range become infinities, large integers are rounded). Shapes may
    /// be empty (rank 0, one scalar) or contain zero extents.
    /// - Parameter source: a file name or path to prefix error messages with, if any.
    /// - Throws: `IOError` (kinds `.truncated`, `.invalidHeader`, `.unsupportedDType`,
    ///   `.invalidLayout`) describing the first problem found in one line.
    public static func decode(_ data: Data, source: String? = nil) throws -> SafeTensorsFile {
        do {
            return try data.withUnsafeBytes { try decode(bytes: $0) }
        } catch let error as IOError {
            throw error.attributed(to: source)
        }
    }

    private static func decode(bytes: UnsafeRawBufferPointer) throws -> SafeTensorsFile {
        guard bytes.count >= 8 else {
            throw IOError(.truncated, "truncated: the file has \(bytes.count) bytes, fewer than the 8-byte header length every safetensors file starts with")
        }
        let declaredLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard declaredLength <= UInt64(maximumHeaderLength) else {
            throw IOError(.invalidHeader, "header length prefix says \(declaredLength) bytes of JSON, more than the limit of \(maximumHeaderLength); this is not a valid safetensors file")
        }
        let headerLength = Int(declaredLength)
        guard headerLength <= bytes.count - 8 else {
            throw IOError(.truncated, "truncated: header says \(headerLength) bytes of JSON but the file has \(bytes.count - 8) bytes after the length prefix")
        }
        let header = Array(bytes[8 ..< 8 + headerLength])
        let buffer = UnsafeRawBufferPointer(rebasing: bytes[(8 + headerLength)...])

        let entries: [Entry]
        let metadata: [String: String]
        (entries, metadata) = try parseHeader(header)
        try validateLayout(of: entries, bufferLength: buffer.count)

        var tensors: [String: Tensor] = [:]
        tensors.reserveCapacity(entries.count)
        for entry in entries {
            let slice = UnsafeRawBufferPointer(rebasing: buffer[entry.begin ..< entry.end])
            tensors[entry.name] = Tensor(shape: entry.shape, scalars: convert(slice, from: entry.dtype, count: entry.count))
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    // MARK: - Header

    /// Element types this reader converts, by their safetensors names.
    enum DType: String, CaseIterable, Sendable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", u8 = "U8", bool = "BOOL"

        var byteWidth: Int {
            switch self {
            case .f64, .i64: 8
            case .f32, .i32: 4
            case .f16, .bf16: 2
            case .u8, .bool: 1
            }
        }

        static let acceptedList = allCases.map(\.rawValue).joined(separator: ", ")
    }

    /// One validated header entry; `count` is the element count, `begin..<end` the bytes in the data buffer.
    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var count: Int
        var begin: Int
        var end: Int
    }

    private static func parseHeader(_ header: [UInt8]) throws -> ([Entry], [String: String]) {
        guard !transcode(header.makeIterator(), from: UTF8.self, to: UTF32.self, stoppingOnError: true, into: { _ in }) else {
            throw IOError(.invalidHeader, "header is not valid UTF-8; safetensors headers are UTF-8 JSON")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(header)
        } catch let error as JSONParser.Failure {
            throw IOError(.invalidHeader, error.message)
        }
        guard case .object(let members) = root else {
            throw IOError(.invalidHeader, "header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}, got \(root.summary)")
        }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (key, value) in members {
            if key == metadataKey {
                metadata = try parseMetadata(value)
            } else {
                entries.append(try parseEntry(named: key, value))
            }
        }
        return (entries, metadata)
    }

    private static func parseMetadata(_ value: JSONValue) throws -> [String: String] {
        guard case .object(let members) = value else {
            throw IOError(.invalidHeader, "\"\(metadataKey)\" must be an object mapping strings to strings, got \(value.summary)")
        }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let text) = value else {
                throw IOError(.invalidHeader, "\"\(metadataKey)\" value for key \(quoted(key)) must be a string, got \(value.summary); metadata maps strings to strings")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func parseEntry(named name: String, _ value: JSONValue) throws -> Entry {
        let tensor = "tensor \(quoted(name))"
        let expectedFields = "expected exactly \"dtype\", \"shape\" and \"data_offsets\""
        guard case .object(let members) = value else {
            throw IOError(.invalidHeader, "\(tensor): expected an object with \"dtype\", \"shape\" and \"data_offsets\", got \(value.summary)")
        }
        var fields: [String: JSONValue] = [:]
        for (key, value) in members {
            guard ["dtype", "shape", "data_offsets"].contains(key) else {
                throw IOError(.invalidHeader, "\(tensor): unknown field \(quoted(key)); \(expectedFields)")
            }
            fields[key] = value
        }
        func field(_ key: String) throws -> JSONValue {
            guard let value = fields[key] else {
                throw IOError(.invalidHeader, "\(tensor): missing field \"\(key)\"; \(expectedFields)")
            }
            return value
        }

        let dtypeValue = try field("dtype")
        guard case .string(let dtypeName) = dtypeValue else {
            throw IOError(.invalidHeader, "\(tensor): \"dtype\" must be a string such as \"F32\", got \(dtypeValue.summary)")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw IOError(.unsupportedDType, "\(tensor): unsupported dtype \(quoted(dtypeName)); accepted: \(DType.acceptedList)")
        }

        let shapeValue = try field("shape")
        guard case .array(let extentValues) = shapeValue else {
            throw IOError(.invalidHeader, "\(tensor): \"shape\" must be an array of non-negative integers, got \(shapeValue.summary)")
        }
        var shape: [Int] = []
        for (axis, extentValue) in extentValues.enumerated() {
            guard let extent = extentValue.integer else {
                throw IOError(.invalidHeader, "\(tensor): \"shape\" must be an array of non-negative integers, got \(shapeValue.summary) (axis \(axis) is not an integer that fits in 64 bits)")
            }
            guard extent >= 0 else {
                throw IOError(.invalidLayout, "\(tensor): \"shape\" \(shapeValue.summary) has the negative extent \(extent) at axis \(axis); extents must be non-negative integers")
            }
            shape.append(extent)
        }

        let offsetsValue = try field("data_offsets")
        guard case .array(let offsetValues) = offsetsValue, offsetValues.count == 2,
              let begin = offsetValues[0].integer, let end = offsetValues[1].integer, begin >= 0, end >= 0 else {
            throw IOError(.invalidHeader, "\(tensor): \"data_offsets\" must be [begin, end], two non-negative integer byte offsets into the data buffer, got \(offsetsValue.summary)")
        }

        // Zero extents are skipped so that e.g. [0, 2^40, 2^40] is rejected too: `Tensor` and its
        // strides multiply extents in arbitrary order and would trap on the intermediate overflow.
        var nonZeroProduct = 1
        for extent in shape where extent != 0 {
            let (product, overflow) = nonZeroProduct.multipliedReportingOverflow(by: extent)
            guard !overflow else {
                throw IOError(.invalidLayout, "\(tensor): shape \(shape) is too large: its element count overflows a 64-bit integer")
            }
            nonZeroProduct = product
        }
        let count = shape.contains(0) ? 0 : nonZeroProduct
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteWidth)
        guard !overflow else {
            throw IOError(.invalidLayout, "\(tensor): shape \(shape) is too large: its byte count overflows a 64-bit integer")
        }
        guard begin <= end else {
            throw IOError(.invalidLayout, "\(tensor): data_offsets [\(begin), \(end)] end before they begin; expected [begin, end] with begin <= end")
        }
        guard end - begin == byteCount else {
            throw IOError(.invalidLayout, "\(tensor): data_offsets [\(begin), \(end)] span \(end - begin) bytes but dtype \(dtype.rawValue) with shape \(shape) needs \(byteCount) bytes (\(count) elements × \(dtype.byteWidth) bytes)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end)
    }

    /// Checks that the entries tile `0..<bufferLength` exactly, as the format requires.
    private static func validateLayout(of entries: [Entry], bufferLength: Int) throws {
        let ordered = entries.sorted { lhs, rhs in
            if lhs.begin != rhs.begin { return lhs.begin < rhs.begin }
            if lhs.end != rhs.end { return lhs.end < rhs.end }
            return utf8Order(lhs.name, rhs.name) // only so that error messages are reproducible
        }
        var covered = 0
        var previous: String?
        for entry in ordered {
            guard entry.end <= bufferLength else {
                throw IOError(.truncated, "truncated: tensor \(quoted(entry.name)) ends at byte \(entry.end) of the data buffer but the file has only \(bufferLength) data bytes")
            }
            if entry.begin > covered {
                let location = previous.map { "between tensors \(quoted($0)) and \(quoted(entry.name))" } ?? "before tensor \(quoted(entry.name))"
                throw IOError(.invalidLayout, "bytes \(covered)..<\(entry.begin) of the data buffer lie \(location) and belong to no tensor; tensors must cover the buffer contiguously")
            }
            if entry.begin < covered, let previous {
                throw IOError(.invalidLayout, "tensors \(quoted(previous)) and \(quoted(entry.name)) overlap at bytes \(entry.begin)..<\(min(covered, entry.end)) of the data buffer; each byte must belong to exactly one tensor")
            }
            covered = entry.end
            previous = entry.name
        }
        guard covered == bufferLength else {
            let location = previous.map { "after the last tensor \(quoted($0)) ends" } ?? "but the header lists no tensors"
            throw IOError(.invalidLayout, "the data buffer has \(bufferLength - covered) bytes (\(covered)..<\(bufferLength)) \(location); tensors must cover the buffer exactly")
        }
    }

    // MARK: - Conversion

    private static func convert(_ bytes: UnsafeRawBufferPointer, from dtype: DType, count: Int) -> [Float] {
        switch dtype {
        case .f32:
            #if _endian(little)
            return Array(unsafeUninitializedCapacity: count) { scalars, initialized in
                UnsafeMutableRawBufferPointer(scalars).copyMemory(from: bytes)
                initialized = count
            }
            #else
            return load(UInt32.self, from: bytes, count: count) { Float(bitPattern: $0) }
            #endif
        case .f64: return load(UInt64.self, from: bytes, count: count) { Float(Double(bitPattern: $0)) }
        case .f16: return load(UInt16.self, from: bytes, count: count, floatFromHalf)
        case .bf16: return load(UInt16.self, from: bytes, count: count) { Float(bitPattern: UInt32($0) << 16) }
        case .i64: return load(Int64.self, from: bytes, count: count) { Float($0) }
        case .i32: return load(Int32.self, from: bytes, count: count) { Float($0) }
        case .u8: return load(UInt8.self, from: bytes, count: count) { Float($0) }
        case .bool: return load(UInt8.self, from: bytes, count: count) { $0 == 0 ? 0 : 1 }
        }
    }

    private static func load<Word: FixedWidthInteger>(
        _: Word.Type, from bytes: UnsafeRawBufferPointer, count: Int, _ transform: (Word) -> Float
    ) -> [Float] {
        let width = MemoryLayout<Word>.size
        return (0..<count).map { index in
            transform(Word(littleEndian: bytes.loadUnaligned(fromByteOffset: index * width, as: Word.self)))
        }
    }

    /// IEEE 754 binary16 bits to `Float`, exactly.
    ///
    /// Written out rather than using `Float16`, which is unavailable on some platforms (macOS on Intel).
    static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0x1F: // Infinity or NaN; the payload moves to the top of the wider mantissa.
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        case 0: // Zero or subnormal: mantissa × 2^-24, which Float represents exactly.
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        default: // Normal: rebias the exponent from 15 to 127.
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    // MARK: - Text helpers

    /// Byte-wise UTF-8 order: stable across platforms and Unicode versions, unlike `String.<`.
    private static func utf8Order(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    private static func appendJSONString(_ text: String, to json: inout String) {
        json += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json += "\\\""
            case "\\": json += "\\\\"
            case "\n": json += "\\n"
            case "\r": json += "\\r"
            case "\t": json += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                json += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: json.unicodeScalars.append(scalar)
            }
        }
        json += "\""
    }

    /// A name from a file, quoted for an error message: control characters escaped, length capped.
    static func quoted(_ text: String) -> String {
        var json = ""
        appendJSONString(text.count > 80 ? String(text.prefix(80)) + "…" : text, to: &json)
        return json
    }
}
