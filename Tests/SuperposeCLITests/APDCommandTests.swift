import Foundation
import TensorCore
import XCTest

/// `superpose apd`: bad settings and bad target files get one clear line and a non-zero exit.
/// An extension so it shares the built-executable helpers of `CommandLineErrorTests`.
extension CommandLineErrorTests {
    func testAPDRejectsBadSettings() throws {
        try assertOneLineError(["apd", "--topk", "0", "--quiet"], mentions: "topk must be positive")
        try assertOneLineError(["apd", "--topk=-1", "--quiet"], mentions: "topk must be positive")
        try assertOneLineError(["apd", "--components", "0", "--quiet"], mentions: "components (C) must be at least 1")
        try assertOneLineError(["apd", "--rank", "0", "--quiet"], mentions: "rank")
        try assertOneLineError(["apd", "--steps", "0", "--quiet"], mentions: "steps")
        try assertOneLineError(["apd", "--weight-decay=-0.1", "--quiet"], mentions: "weight decay must be a non-negative number")
        try assertOneLineError(["apd", "--schatten-coefficient=-1", "--quiet"], mentions: "the Schatten coefficient must be a non-negative number")
        try assertOneLineError(["apd", "--topk-reconstruction-coefficient", "nan", "--quiet"],
                               mentions: "the top-k reconstruction coefficient must be a non-negative number")
        try assertOneLineError(["apd", "--initialisation", "orthogonal", "--quiet"], mentions: "initialisation must be kaimingUniform or xavierNormal")
        try assertOneLineError(["apd", "--preset", "tms-9-9"], mentions: "unknown APD preset 'tms-9-9'")
        try assertOneLineError(["apd", "--minimality", "sometimes"], mentions: "minimality must be batchTopK or lpAttributions")
        try assertOneLineError(["apd", "--minimality", "lpAttributions", "--lp-p", "3", "--quiet"], mentions: "Lp sparsity p must be in (0, 2]")
        try assertOneLineError(["apd", "--minimality", "lpAttributions", "--lp-coefficient=-1", "--quiet"],
                               mentions: "the Lp sparsity coefficient must be a non-negative number")
        try assertOneLineError(["apd", "--preset", "resid-mlp-1", "--attributions", "decomposition", "--quiet"],
                               mentions: "supports the target's attributions only")
        try assertOneLineError(["apd", "--preset", "resid-mlp-1", "--instances", "2", "--quiet"], mentions: "--instances applies to TMS targets only")
        try assertOneLineError(["apd", "--restarts", "0", "--quiet"], mentions: "restarts must be in 1...100, got 0")
        try assertOneLineError(["apd", "--preset", "gated", "--feature-probability", "0.1", "--quiet"],
                               mentions: "--feature-probability applies to TMS and residual-MLP targets")
    }

    func testAPDRejectsBadTargetFiles() throws {
        try assertOneLineError(["apd", "--target", "no-such-model.safetensors", "--quiet"], mentions: "no-such-model.safetensors")
        // A residual MLP without its layers, and a toy model without W.
        let residual = scratch.appendingPathComponent("residual.safetensors")
        var generator = RandomGenerator(seed: 1)
        try SafeTensors.write(["W_E": .normal([100, 40], using: &generator), "W_U": .normal([40, 100], using: &generator)], to: residual)
        try assertOneLineError(["apd", "--target", residual.path, "--quiet"], mentions: "layers.0.mlp_in.weight")
        let toy = scratch.appendingPathComponent("toy.safetensors")
        try SafeTensors.write(["weights": Tensor(zeros: [2, 3])], to: toy)
        try assertOneLineError(["apd", "--target", toy.path, "--quiet"], mentions: "no tensor named 'W'")
        let garbage = scratch.appendingPathComponent("garbage.safetensors")
        try Data("not a safetensors file".utf8).write(to: garbage)
        try assertOneLineError(["apd", "--target", garbage.path, "--quiet"], mentions: "garbage.safetensors")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("runs").path), "no run folder is left behind")
    }
}

/// `superpose apd --target` on a model a `tms` run saved: the decomposition runs and writes a
/// complete run folder (a target read from a file has no training loss to report).
final class APDTargetFileTests: CommandLineTestCase {
    func testDecomposesASavedTMSModel() throws {
        let train = try run(["tms", "--n", "5", "--m", "2", "--instances", "2", "--steps", "300", "--feature-probability", "0.05",
                             "--output", "trained", "--quiet"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let trained = scratch.appendingPathComponent("trained")
        let runName = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: trained.path).first)
        let model = trained.appendingPathComponent(runName).appendingPathComponent("model.safetensors")
        let result = try run(["apd", "--target", model.path, "--feature-probability", "0.05", "--steps", "30", "--batch", "64",
                              "--output", "decomposed", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let decomposed = scratch.appendingPathComponent("decomposed")
        let folder = decomposed.appendingPathComponent(try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: decomposed.path).first))
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("metrics.json"))) as? [String: Any])
        let instances = try XCTUnwrap(metrics["instances"] as? [[String: Any]])
        XCTAssertEqual(instances.count, 2)
        XCTAssertNil(instances[0]["targetLoss"], "no training loss for a target read from a file")
        for file in ["config.json", "model.safetensors", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), file)
        }
    }
}
