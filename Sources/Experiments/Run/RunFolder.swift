import Foundation
import TensorCore

/// A run's output folder: `<root>/<experiment>-<timestamp>/` holding config.json,
/// model.safetensors, metrics.json, figures/*.svg and report.html.
/// Every file is written atomically.
public struct RunFolder: Sendable {
    public let url: URL

    /// Creates a new, uniquely named folder under `root` (created if missing).
    public static func create(under root: URL, experiment: String, date: Date = Date()) throws -> RunFolder {
        try AtomicFile.createDirectory(at: root)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let stem = "\(experiment)-\(formatter.string(from: date))"
        for attempt in 0..<1000 {
            let url = root.appendingPathComponent(attempt == 0 ? stem : "\(stem)-\(attempt + 1)", isDirectory: true)
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
                return RunFolder(url: url)
            } catch where FileManager.default.fileExists(atPath: url.path) {
                continue
            } catch {
                throw ExperimentError("cannot create run folder \(url.path): \(error.localizedDescription)")
            }
        }
        throw ExperimentError("cannot find a free run folder name under \(root.path)")
    }

    /// Creates a new run folder under `root` and fills it with `fill`.
    ///
    /// The folder exists before `fill` starts, so an unwritable destination fails before minutes of
    /// training. When `fill` throws, the folder is removed: it is new, so it holds nothing but this
    /// run's partial output, and a failed run leaves no half-written folder behind (nor `root`, when
    /// this call created it and it is empty again).
    public static func create<Result>(under root: URL, experiment: String,
                                      filling fill: (RunFolder) throws -> Result) throws -> Result {
        let rootExisted = FileManager.default.fileExists(atPath: root.path)
        let folder = try create(under: root, experiment: experiment)
        do {
            return try fill(folder)
        } catch {
            try? FileManager.default.removeItem(at: folder.url)
            if !rootExisted, (try? FileManager.default.contentsOfDirectory(atPath: root.path))?.isEmpty == true {
                try? FileManager.default.removeItem(at: root)
            }
            throw error
        }
    }

    /// Writes the files every run has: config.json, the model (through `saveModel`, given the
    /// model's URL) and metrics.json.
    public func write<Config: Encodable, Metrics: Encodable>(config: Config, metrics: Metrics,
                                                            model saveModel: (URL) throws -> Void) throws {
        try writeJSON(config, to: configURL)
        try saveModel(modelURL)
        try writeJSON(metrics, to: metricsURL)
    }

    /// An existing run folder.
    public init(url: URL) { self.url = url }

    public var configURL: URL { url.appendingPathComponent("config.json") }
    public var modelURL: URL { url.appendingPathComponent("model.safetensors") }
    public var metricsURL: URL { url.appendingPathComponent("metrics.json") }
    public var figuresURL: URL { url.appendingPathComponent("figures", isDirectory: true) }
    public var reportURL: URL { url.appendingPathComponent("report.html") }

    /// Writes `value` as pretty, key-sorted JSON.
    public func writeJSON<Value: Encodable>(_ value: Value, to fileURL: URL) throws {
        try AtomicFile.write(try JSONCoding.encode(value), to: fileURL)
    }
}

/// JSON as this package writes and reads it: sorted keys, pretty printed, one-line errors.
public enum JSONCoding {
    public static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Decodes `Value` from a file, turning every failure into one line naming the file and the problem.
    public static func decode<Value: Decodable>(_ type: Value.Type, from url: URL) throws -> Value {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ExperimentError("\(url.path): cannot read the file (\(FileManager.default.fileExists(atPath: url.path) ? "permission or I/O error" : "no such file"))")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw ExperimentError("\(url.lastPathComponent): \(describe(error))")
        } catch {
            throw ExperimentError("\(url.lastPathComponent): \(error.localizedDescription)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.isEmpty ? "the top level" : "'" + keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") + "'"
        }
        switch error {
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return "not valid JSON (malformed or truncated)" }
            return "invalid value at \(path(context.codingPath)): \(context.debugDescription)"
        case let .keyNotFound(key, context):
            return "missing key '\(key.stringValue)' in \(path(context.codingPath))"
        case let .typeMismatch(type, context):
            return "wrong type at \(path(context.codingPath)): expected \(type)"
        case let .valueNotFound(type, context):
            return "missing value at \(path(context.codingPath)): expected \(type)"
        @unknown default:
            return "cannot decode: \(error.localizedDescription)"
        }
    }
}
