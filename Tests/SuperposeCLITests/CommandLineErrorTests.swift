import Foundation
import XCTest
import SuperposeCLI

/// Bad input gets one clear error line and a non-zero exit; it never crashes and never touches existing files.
final class CommandLineErrorTests: CommandLineTestCase {
    func testInvalidSizes() throws {
        try assertOneLineError(["tms", "--n", "0", "--m", "2", "--quiet"], mentions: "n (features) must be at least 1")
        try assertOneLineError(["tms", "--n", "5", "--m=-3", "--quiet"], mentions: "m (hidden dimensions) must be at least 1")
        try assertOneLineError(["tms", "--n", "5", "--m", "-3", "--quiet"], mentions: "m (hidden dimensions) must be at least 1, got -3")
        try assertOneLineError(["tms", "--preset", "T1", "--steps", "-5", "--quiet"], mentions: "steps must be at least 1, got -5")
        try assertOneLineError(["tms", "--preset", "T1", "--seed", "-1", "--quiet"], mentions: "'-1' is invalid for '--seed")
        try assertOneLineError(["apd", "--topk", "-1", "--quiet"], mentions: "topk must be positive, got -1")
        try assertOneLineError(["phase", "--grid", "-4", "--quiet"], mentions: "-4")
        try assertOneLineError(["tms", "--preset", "T1", "--steps", "0", "--quiet"], mentions: "steps must be at least 1")
        try assertOneLineError(["tms", "--preset", "T1", "--feature-probability", "1.5", "--quiet"], mentions: "[0, 1]")
        try assertOneLineError(["tms", "--n", "9223372036854775807", "--m", "2", "--quiet"], mentions: "model too large")
        try assertOneLineError(["tms", "--preset", "T4", "--batch", "100000000", "--quiet"], mentions: "batch too large")
        try assertOneLineError(["tms", "--preset", "T1", "--importance", "geometric:1e30", "--quiet"], mentions: "overflows")
    }

    func testUnknownPreset() throws {
        try assertOneLineError(["tms", "--preset", "T9"], mentions: "unknown preset 'T9'")
    }

    func testUnwritableOutputFolder() throws {
        let blocker = scratch.appendingPathComponent("a-file")
        try Data("keep me".utf8).write(to: blocker)
        try assertOneLineError(["tms", "--preset", "T1", "--steps", "5", "--quiet", "--output", blocker.appendingPathComponent("runs").path],
                               mentions: "a-file")
        XCTAssertEqual(try String(contentsOf: blocker, encoding: .utf8), "keep me")
    }

    func testMalformedAndTruncatedConfig() throws {
        let malformed = scratch.appendingPathComponent("bad.json")
        try Data("{ not json".utf8).write(to: malformed)
        try assertOneLineError(["tms", "--config", malformed.path], mentions: "not valid JSON")
        let truncated = scratch.appendingPathComponent("truncated.json")
        try Data(#"{"name": "T1", "features": 5, "hid"#.utf8).write(to: truncated)
        try assertOneLineError(["tms", "--config", truncated.path], mentions: "truncated.json")
        let missing = scratch.appendingPathComponent("missing.json")
        try Data(#"{"name": "x", "features": 5, "instances": 2}"#.utf8).write(to: missing)
        try assertOneLineError(["tms", "--config", missing.path], mentions: "missing key 'hidden'")
        try assertOneLineError(["tms", "--config", scratch.appendingPathComponent("absent.json").path], mentions: "no such file")
        let wrongType = scratch.appendingPathComponent("wrong.json")
        try Data(#"{"name": "x", "features": "five", "hidden": 2, "instances": 1}"#.utf8).write(to: wrongType)
        try assertOneLineError(["tms", "--config", wrongType.path], mentions: "'features'")
    }

    func testMalformedAndTruncatedSafetensors() throws {
        let truncated = scratch.appendingPathComponent("model.safetensors")
        try Data([0x40, 0, 0, 0, 0, 0, 0, 0] + Array("{\"W\":".utf8)).write(to: truncated)
        try assertOneLineError(["inspect", truncated.path], mentions: "model.safetensors")
        let short = scratch.appendingPathComponent("short.safetensors")
        try Data([1, 2, 3]).write(to: short)
        try assertOneLineError(["inspect", short.path], mentions: "short.safetensors")
    }

    /// A short run writes a complete run folder whose config reproduces the model bit for bit.
    func testRunFolderAndConfigReproduceTheModel() throws {
        let first = try run(["tms", "--preset", "T1", "--steps", "200", "--quiet", "--output", "out"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let folders = try FileManager.default.contentsOfDirectory(atPath: scratch.appendingPathComponent("out").path)
        XCTAssertEqual(folders.count, 1)
        let folder = scratch.appendingPathComponent("out").appendingPathComponent(folders[0])
        for file in ["config.json", "model.safetensors", "metrics.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), file)
        }
        let again = try run(["tms", "--config", folder.appendingPathComponent("config.json").path, "--quiet", "--output", "again"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let second = scratch.appendingPathComponent("again").appendingPathComponent(
            try FileManager.default.contentsOfDirectory(atPath: scratch.appendingPathComponent("again").path)[0])
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")),
                       try Data(contentsOf: second.appendingPathComponent("model.safetensors")))
        let inspected = try run(["inspect", folder.appendingPathComponent("model.safetensors").path, "--json"])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        XCTAssertTrue(inspected.stdout.contains("featureDimensionality"))
    }

    /// A run whose training diverges says so in one line and leaves no half-written run folder.
    func testDivergedTrainingLeavesNoRunFolder() throws {
        try assertOneLineError(["tms", "--preset", "T1", "--lr", "1e30", "--steps", "50", "--quiet", "--output", "out"],
                               mentions: "training diverged")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: scratch.appendingPathComponent("out").path)) ?? []
        XCTAssertEqual(left, [])
    }
}
