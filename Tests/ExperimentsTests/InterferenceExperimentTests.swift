import XCTest
import Analysis
import Figures
@testable import Experiments

final class InterferenceExperimentTests: XCTestCase {
    /// I1 at reduced size: n = 40, m = 10, density 0.05, 1,500 and 4,000 steps, 20,000 evaluation samples.
    static func smallConfig() -> InterferenceConfig {
        var c = InterferencePreset.i1.config
        c.name = "I1-small"
        c.features = 40
        c.hidden = 10
        c.featureProbability = 0.05
        c.variants = [.init(name: "undertrained", steps: 1_500), .init(name: "converged", steps: 4_000)]
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
            print("I1-small \(variant.name): diagonal r = \(variant.diagonalCorrelation), off-diagonal r = \(variant.offDiagonalCorrelation), all r = \(variant.allWeightsCorrelation), diagonal RMS difference = \(variant.diagonalRMSDifference), diagonal means = \(variant.models.map(\.diagonalMean))")
            // Interference weights are independent across seeds.
            XCTAssertLessThan(abs(variant.offDiagonalCorrelation), 0.3)
            // Real weights agree and are positive: the seeds' diagonals differ by far less than their size
            // and than two independent interference weights do (√2 × their RMS). Their Pearson correlation
            // is not high: with equal importance and density the features are exchangeable, so one seed's
            // diagonal sits in a narrow band whose spread is seed-specific noise (measured and reported).
            for model in variant.models { XCTAssertGreaterThan(model.diagonalMean, 0.5) }
            XCTAssertLessThan(variant.diagonalRMSDifference, 0.1 * variant.models[0].diagonalMean)
            XCTAssertLessThan(variant.diagonalRMSDifference, 0.25 * 2.0.squareRoot() * variant.models[0].offDiagonalRMS)
        }
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
        XCTAssertEqual(svgs.count, 8)
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
        XCTAssertEqual(try InterferencePreset.named("i1"), .i1)
    }
}
