import Foundation
import XCTest
import TensorCore
import SuperposeCLI

/// `superpose interference --model / --config / --preset`: saved models analysed without training,
/// and one clear error line with a non-zero exit for bad input.
final class InterferenceCommandTests: CommandLineTestCase {
    /// An untied model n = 6, m = 2 with its circuit A (diagonal 0.8) and v.
    func writeUntied(to url: URL, upShape: [Int] = [6, 2]) throws {
        var generator = RandomGenerator(seed: 3)
        var a = [Float](repeating: 0, count: 36)
        for i in 0..<6 { a[i * 6 + i] = 0.8 }
        try SafeTensors.write(["W_down": .normal([2, 6], standardDeviation: 0.7, using: &generator),
                               "W_up": .normal(upShape, standardDeviation: 0.7, using: &generator),
                               "b": Tensor(repeating: -0.05, shape: [6]), "A": Tensor(shape: [6, 6], scalars: a),
                               "v": Tensor(repeating: -0.1, shape: [6])], to: url)
    }

    func testSavedUntiedModelIsAnalysedWithoutTraining() throws {
        let file = scratch.appendingPathComponent("untied.safetensors")
        try writeUntied(to: file)
        let result = try run(["interference", "--model", file.path, "--density", "0.3", "--evaluation-samples", "5000", "-o", "out", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = URL(fileURLWithPath: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertTrue(FileManager.default.fileExists(atPath: report.path))
        let folder = report.deletingLastPathComponent()
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("metrics.json"))) as! [String: Any]
        XCTAssertEqual(metrics["features"] as? Int, 6)
        XCTAssertEqual(metrics["hidden"] as? Int, 2)
        XCTAssertEqual((metrics["idealWeights"] as? [Double])?.count, 36)
        let variants = metrics["variants"] as! [[String: Any]]
        XCTAssertEqual(variants.count, 1)
        XCTAssertEqual((variants[0]["models"] as! [[String: Any]]).count, 1)
        // The saved config re-runs the analysis, and `superpose report` re-renders it.
        let again = try run(["interference", "--config", folder.appendingPathComponent("config.json").path, "-o", "again", "--quiet"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let rerendered = try run(["report", folder.path])
        XCTAssertEqual(rerendered.status, 0, rerendered.stderr)
    }

    func testSavedTMSModelIsAnalysed() throws {
        let file = scratch.appendingPathComponent("tms.safetensors")
        var generator = RandomGenerator(seed: 1)
        try SafeTensors.write(["W": .normal([2, 3, 8], standardDeviation: 0.5, using: &generator), "b_final": Tensor(zeros: [2, 8])], to: file)
        let result = try run(["interference", "--model", file.path, "--evaluation-samples", "2000", "-o", "out", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let folder = URL(fileURLWithPath: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)).deletingLastPathComponent()
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("metrics.json"))) as! [String: Any]
        let models = (metrics["variants"] as! [[String: Any]])[0]["models"] as! [[String: Any]]
        XCTAssertEqual(models.count, 2)
        // The file records no importances, so every output weighs the same (not I1's 0.99^i).
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertNil(config["importanceRatio"])
    }

    func testBadInputGetsOneLine() throws {
        try assertOneLineError(["interference", "--preset", "I9", "--quiet"], mentions: "unknown preset 'I9'")
        try assertOneLineError(["interference", "--importance-ratio", "0", "--quiet"], mentions: "importance ratio must be a positive number")
        try assertOneLineError(["interference", "--model", "missing.safetensors", "--quiet"], mentions: "no such file")
        let good = scratch.appendingPathComponent("good.safetensors")
        try writeUntied(to: good)
        let bytes = try Data(contentsOf: good)
        let truncated = scratch.appendingPathComponent("truncated.safetensors")
        try bytes.prefix(bytes.count - 20).write(to: truncated)
        try assertOneLineError(["interference", "--model", truncated.path, "--quiet"], mentions: "truncated.safetensors")
        let garbage = scratch.appendingPathComponent("garbage.safetensors")
        try Data("not a safetensors file at all".utf8).write(to: garbage)
        try assertOneLineError(["interference", "--model", garbage.path, "--quiet"], mentions: "garbage.safetensors")
        let unnamed = scratch.appendingPathComponent("unnamed.safetensors")
        try SafeTensors.write(["weights": Tensor(zeros: [2, 3])], to: unnamed)
        try assertOneLineError(["interference", "--model", unnamed.path, "--quiet"], mentions: "no model tensors")
        let badShape = scratch.appendingPathComponent("shape.safetensors")
        try writeUntied(to: badShape, upShape: [5, 2])
        try assertOneLineError(["interference", "--model", badShape.path, "--quiet"], mentions: "'W_up' must be [6, 2]")
        let badConfig = scratch.appendingPathComponent("config.json")
        try Data(#"{"name": "x", "features": 10}"#.utf8).write(to: badConfig)
        try assertOneLineError(["interference", "--config", badConfig.path, "--quiet"], mentions: "config.json")
        try assertOneLineError(["interference", "--preset", "I1", "--frozen-down", "--quiet"], mentions: "--frozen-down")
        try assertOneLineError(["interference", "--preset", "I2", "--block-density", "1.5", "--quiet"], mentions: "block density")
        try assertOneLineError(["interference", "--model", good.path, "--steps", "10", "--quiet"], mentions: "--model")
        // Nothing half-written is left behind.
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("runs").path))
    }
}
