import XCTest
import Analysis
import Figures
@testable import Experiments

final class InterferenceExperimentTests: XCTestCase {
    /// I1 at the preset's sizes (n = 100, m = 20, density 0.02, importance 0.99^i), 500 and 3,000 steps
    /// (the preset's converged model: 10,000), 20,000 evaluation samples.
    static func smallConfig() -> InterferenceConfig {
        var c = InterferencePreset.i1.config
        c.name = "I1-reduced"
        c.variants = [.init(name: "undertrained", steps: 500), .init(name: "converged", steps: 3_000)]
        c.evaluationSamples = 20_000
        c.training.threads = 1
        return c
    }

    static let trained: (metrics: InterferenceMetrics, config: InterferenceConfig) = {
        let config = smallConfig()
        return (try! InterferenceExperiment.train(config).metrics, config)
    }()

    func testI1EveryDiagonalWeightIsReal() {
        let (metrics, config) = Self.trained
        for variant in metrics.variants {
            for model in variant.models {
                XCTAssertEqual(model.realDiagonalCount, config.features, "\(variant.name) seed \(model.seed)")
                XCTAssertGreaterThan(model.minimumDiagonalDeltaLoss, config.epsilon)
                XCTAssertEqual(model.realCount, model.realDiagonalCount + model.realOffDiagonalCount)
            }
        }
    }

    func testI1SeedsAgreeOnRealWeightsNotOnInterference() {
        let (metrics, _) = Self.trained
        for variant in metrics.variants {
            print("I1-reduced \(variant.name): diagonal r = \(variant.diagonalCorrelation), off-diagonal r = \(variant.offDiagonalCorrelation), all r = \(variant.allWeightsCorrelation), diagonal RMS difference = \(variant.diagonalRMSDifference), diagonal means = \(variant.models.map(\.diagonalMean))")
            // Interference weights are independent across seeds; real weights agree (the importance decay
            // orders the features the same way in both seeds) and are positive, and the seeds' diagonals
            // differ by far less than their size and than two independent interference weights do.
            XCTAssertLessThan(abs(variant.offDiagonalCorrelation), 0.3)
            XCTAssertGreaterThan(variant.diagonalCorrelation, 0.9)
            for model in variant.models { XCTAssertGreaterThan(model.diagonalMean, 0.5) }
            XCTAssertLessThan(variant.diagonalRMSDifference, 0.1 * variant.models[0].diagonalMean)
            XCTAssertLessThan(variant.diagonalRMSDifference, 0.25 * 2.0.squareRoot() * variant.models[0].offDiagonalRMS)
        }
    }

    /// With equal importance the features are exchangeable: the seeds' diagonal weights still agree in
    /// size (RMS difference) but their spread is seed-specific noise, so they do not correlate.
    func testI1EqualImportanceDiagonalsAgreeInSizeButDoNotCorrelate() throws {
        var config = Self.smallConfig()
        config.importanceRatio = nil
        config.variants = [config.variants[0]]
        config.learnedScores = nil
        let variant = try InterferenceExperiment.train(config).metrics.variants[0]
        print("I1-reduced equal importance: diagonal r = \(variant.diagonalCorrelation), RMS difference = \(variant.diagonalRMSDifference)")
        XCTAssertLessThan(abs(variant.diagonalCorrelation), 0.5)
        XCTAssertLessThan(variant.diagonalRMSDifference, 0.1 * variant.models[0].diagonalMean)
    }

    func testCurvesAreConsistentWithDeltaLoss() {
        let (metrics, config) = Self.trained
        let model = metrics.variants[0].models[0]
        let real = model.deltaLoss.map { $0 > config.epsilon }
        for curve in model.curves {
            for (index, k) in curve.k.enumerated() {
                let scores: [Double]
                XCTAssertEqual(curve.k.last, config.features * config.features)
                if curve.score == WeightScores.Kind.oracle.rawValue { scores = model.deltaLoss } else { continue }
                let kept = scores.enumerated().sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }.prefix(k).map(\.offset)
                XCTAssertEqual(curve.lossGain[index], kept.reduce(0.0) { $0 + model.deltaLoss[$1] }, accuracy: 1e-12 + 1e-9 * abs(curve.lossGain[index]))
                XCTAssertEqual(curve.precision[index], Double(kept.filter { real[$0] }.count) / Double(k), accuracy: 1e-12)
            }
            // Keeping every weight gains the sum of all ΔL.
            XCTAssertEqual(curve.lossGain.last!, model.deltaLoss.reduce(0, +), accuracy: 1e-9)
        }
    }

    func testRunFolderAndFigures() throws {
        var config = Self.smallConfig()
        config.features = 12
        config.hidden = 4
        config.featureProbability = 0.1
        config.variants = [.init(name: "undertrained", steps: 200), .init(name: "converged", steps: 400)]
        config.evaluationSamples = 2_000
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("interference-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let outcome = try InterferenceExperiment.run(config, under: root)
        let folder = outcome.folder
        for url in [folder.configURL, folder.modelURL, folder.metricsURL, folder.reportURL] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), url.lastPathComponent)
        }
        let decoded = try JSONCoding.decode(InterferenceMetrics.self, from: folder.metricsURL)
        XCTAssertEqual(decoded.variants.count, 2)
        XCTAssertEqual(try JSONCoding.decode(InterferenceConfig.self, from: folder.configURL), config)
        let svgs = try FileManager.default.contentsOfDirectory(atPath: folder.figuresURL.path).filter { $0.hasSuffix(".svg") }
        XCTAssertEqual(svgs.count, 9)
        XCTAssertTrue(svgs.contains("real-rate-threshold.svg"))
        for name in svgs {
            let svg = try String(contentsOf: folder.figuresURL.appendingPathComponent(name), encoding: .utf8)
            XCTAssertTrue(MarkupCheck(svg).isWellFormed, name)
        }
        let html = try String(contentsOf: folder.reportURL, encoding: .utf8)
        XCTAssertTrue(html.contains("Settings the note leaves unstated"))
        XCTAssertTrue(html.contains("undertrained"))
        // PNGs render too.
        let figures = InterferenceReport(config: config, metrics: outcome.metrics).figures()
        for item in figures {
            let png = item.figure.pngData()
            XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], item.name)
            if let dump = ProcessInfo.processInfo.environment["INTERFERENCE_PNG_DIR"] {
                try png.write(to: URL(fileURLWithPath: dump).appendingPathComponent(item.name + ".png"))
            }
        }
    }

    /// I2 at full size (n = 128, m = 16, 8 blocks at density 0.1, input density 0.3) with W_down learned,
    /// trained 2,000 steps (the preset: 5,000), measured on 20,000 evaluation samples.
    static let circuit: (metrics: InterferenceMetrics, config: InterferenceConfig) = {
        var config = InterferencePreset.i2.config
        config.variants = [.init(name: "learned-down", steps: 2_000)]
        config.evaluationSamples = 20_000
        return (try! InterferenceExperiment.train(config).metrics, config)
    }()

    func testI2RealWeightsFollowTheCircuitAndAgreeAcrossSeeds() {
        let (metrics, _) = Self.circuit
        let variant = metrics.variants[0]
        let idealRate = metrics.idealBaseRate!
        print("I2 learned-down (2,000 steps): base rates \(variant.models.map(\.realBaseRate)) against nnz(A)/n² = \(idealRate); real r = \(variant.realCorrelation!) over \(variant.realInBothCount!), interference r = \(variant.interferenceCorrelation!); slopes \(variant.models.map { $0.idealSlope! })")
        for model in variant.models {
            // Near nnz(A)/n²: the same order (the model leaves some of A's weights out; measured about 0.6 of it).
            XCTAssertGreaterThan(model.realBaseRate, 0.5 * idealRate)
            XCTAssertLessThan(model.realBaseRate, 1.5 * idealRate)
            // Real weights are A's weights: almost none outside its support.
            XCTAssertLessThanOrEqual(Double(model.realOffDiagonalCount), 0.05 * Double(model.realCount))
            // Learned weights are shrunk below A.
            XCTAssertGreaterThan(model.idealSlope!, 0.2)
            XCTAssertLessThan(model.idealSlope!, 1)
        }
        XCTAssertGreaterThan(variant.realCorrelation!, 0.9)
        XCTAssertLessThan(abs(variant.interferenceCorrelation!), 0.3)
        XCTAssertGreaterThan(variant.realInBothCount!, 50)
        // The circuit itself (U = A, b = v) carries most of A's entries; the few too small to lift an
        // output over −v are not real, so its rate lies a little below nnz(A)/n².
        XCTAssertLessThan(metrics.circuitRealBaseRate!, idealRate)
        XCTAssertGreaterThan(metrics.circuitRealBaseRate!, 0.8 * idealRate)
    }

    func testI2LossGainFrontierEqualsSumOverKeptSet() {
        let (metrics, config) = Self.circuit
        let model = metrics.variants[0].models[0]
        let magnitude = model.virtualWeights.map { Double(abs($0)) }
        for curve in model.curves {
            let scores: [Double]
            switch curve.score {
            case WeightScores.Kind.oracle.rawValue: scores = model.deltaLoss
            case WeightScores.Kind.magnitude.rawValue: scores = magnitude
            default: continue
            }
            let ranked = scores.enumerated().sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }.map(\.offset)
            for (index, k) in curve.k.enumerated() {
                let sum = ranked.prefix(k).reduce(0.0) { $0 + model.deltaLoss[$1] }
                XCTAssertEqual(curve.lossGain[index], sum, accuracy: 1e-12 + 1e-9 * abs(sum))
            }
            XCTAssertEqual(curve.k.last, config.features * config.features)
        }
    }

    func testInvalidConfigsThrowOneLine() {
        var c = InterferencePreset.i1.config
        c.seeds = [3]
        XCTAssertThrowsError(try c.validate())
        c = InterferencePreset.i1.config
        c.featureProbability = 0
        XCTAssertThrowsError(try c.validate())
        c = InterferencePreset.i1.config
        c.variants[0].steps = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertFalse("\($0)".contains("\n")) }
        XCTAssertThrowsError(try InterferencePreset.named("I9"))
        c = InterferencePreset.i2.config
        c.circuit?.blocks = 7
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("blocks")) }
        c = InterferencePreset.i1.config
        c.variants[0].frozenDown = true
        XCTAssertThrowsError(try c.validate())
        XCTAssertEqual(try InterferencePreset.named("i1"), .i1)
    }
}
