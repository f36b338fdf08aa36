import Analysis
import ArgumentParser
import Experiments
import Foundation
import TensorCore
import ToyModels

/// `superpose bench`: performance figures as JSON lines (one object per measurement).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure kernel and training speed; prints one JSON object per line.")

    @Option(parsing: .unconditional, help: "Seconds to spend on each measurement (at least).") var seconds: Double = 0.5
    @Option(help: "Which groups to run: all, matmul, train, interference, apd.") var only: String = "all"

    func run() throws {
        let groups = ["all", "matmul", "train", "interference", "apd"]
        guard seconds > 0 && seconds.isFinite else { throw ExperimentError("--seconds must be a positive number") }
        guard groups.contains(only) else { throw ExperimentError("--only must be one of \(groups.joined(separator: ", ")), got '\(only)'") }
        let peak = GEMMBenchmark.fmaPeakGFLOPS(minimumSeconds: seconds)
        emit(["benchmark": "fma_peak", "gflops": round3(peak)])
        if only == "all" || only == "matmul" {
            for (m, k, n) in [(1024, 20, 5), (1024, 5, 20), (2048, 100, 1000), (2048, 1000, 100), (256, 1000, 50), (2048, 40, 10)] {
                let gflops = GEMMBenchmark.gflops(m: m, k: k, n: n, minimumSeconds: seconds)
                emit(["benchmark": "matmul", "M": m, "K": k, "N": n, "gflops": round3(gflops),
                      "fraction_of_peak": round3(gflops / peak)])
            }
        }
        if only == "all" || only == "train" {
            for (name, n, m, instances, target) in [("T1 5->2", 5, 2, 10, 5000.0), ("T2 20->5", 20, 5, 10, 2300),
                                                    ("100->20", 100, 20, 10, 600), ("T4 200->20", 200, 20, 20, 0)] {
                emit(trainingBenchmark(name: name, n: n, m: m, instances: instances, target: target))
            }
        }
        if only == "all" || only == "interference" {
            emit(interferenceBenchmark())
        }
        if only == "all" || only == "apd" {
            for (name, full, target, measure) in [
                ("TMS 5-2, 12 instances, batch 2048", 20_000, 60.0, { try APDBenchmark.tms52(minimumSeconds: seconds * 4) }),
                ("TMS 40-10, 3 instances, C 50, batch 2048", 20_000, 0.0, { try APDBenchmark.tms4010(minimumSeconds: seconds * 4) }),
                ("residual MLP 1 layer, C 130, batch 256", 10_000, 900.0, { try APDBenchmark.residualMLP(layers: 1, minimumSeconds: seconds * 8) }),
                ("residual MLP 2 layers, C 200, batch 256", 10_000, 0.0, { try APDBenchmark.residualMLP(layers: 2, minimumSeconds: seconds * 8) }),
            ] as [(String, Int, Double, () throws -> APDBenchmark.Measurement)] {
                let m = try measure()
                var record: [String: Any] = ["benchmark": "apd", "model": name, "steps": m.steps, "seconds": round3(m.seconds),
                                             "steps_per_second": round3(1 / max(m.secondsPerStep, 1e-12)),
                                             "setup_seconds": round3(m.setupSeconds),
                                             "cpu_per_wall": round3(m.cpuSeconds / m.seconds),
                                             "reference_steps": full, "projected_seconds": round3(m.projectedSeconds)]
                if target > 0 { record["target_seconds"] = target; record["meets_target"] = m.projectedSeconds < target }
                emit(record)
            }
        }
    }

    /// Exact ΔL for all 16,384 weights of an I2-sized lifted model (128 features, input density 0.3)
    /// over 100,000 evaluation samples. The weights are random: the cost does not depend on them.
    func interferenceBenchmark() -> [String: Any] {
        let n = 128, samples = 100_000
        var generator = RandomGenerator(seed: 1)
        let u = Tensor.normal([n, n], standardDeviation: 0.1, using: &generator).scalars
        let model = LiftedModel(virtualWeights: u, bias: Array(repeating: -0.1, count: n))
        var lanes = [RandomLanes(seed: 1, stream: 0)]
        let x = FeatureDistribution(instanceProbabilities: [0.3], featureCount: n)
            .sample(batchSize: samples, lanes: &lanes).scalars
        let (wall, cpu) = timed { _ = InterferenceAnalysis.exactDeltaLoss(model, evaluation: x) }
        return ["benchmark": "interference_exact_delta_loss", "features": n, "weights": n * n, "samples": samples,
                "density": 0.3, "seconds": round3(wall), "cpu_seconds": round3(cpu), "target_seconds": 1.0,
                "meets_target": wall < 1.0]
    }

    /// Trains with the notebook's sweep (p from 1 to 0.05) at batch 1024 on one thread and measures
    /// steps per wall-second and per CPU-second of the training loop: the rate between a short and a
    /// long run, so that the one-time cost of a run (initialisation, evaluation, metrics), reported as
    /// `setup_cpu_seconds`, is not charged to the steps.
    func trainingBenchmark(name: String, n: Int, m: Int, instances: Int, target: Double) -> [String: Any] {
        var config = TMSConfig(name: "bench", features: n, hidden: m, instances: instances)
        config.importance = .geometric(ratio: 0.9)
        config.featureProbability = .logSpaced(densest: 1, sparsest: 0.05)
        config.training.threads = 1
        config.training.evaluationBatches = 1
        func run(steps: Int) -> (wall: Double, cpu: Double) {
            config.training.steps = steps
            return timed { _ = try? TMSExperiment.train(config) }
        }
        // Calibrate the long run to fill about `seconds`; the short one is a fifth of it.
        let probe = run(steps: 20)
        let steps = max(50, min(200_000, Int(20 * seconds / max(probe.wall, 1e-6))))
        let short = run(steps: steps / 5), long = run(steps: steps)
        let marginalSteps = Double(steps - steps / 5)
        let cpuPerStep = max(long.cpu - short.cpu, 1e-9) / marginalSteps, wallPerStep = max(long.wall - short.wall, 1e-9) / marginalSteps
        var record: [String: Any] = ["benchmark": "train", "model": name, "n": n, "m": m, "instances": instances,
                                     "batch": 1024, "steps": steps,
                                     "steps_per_second": round3(1 / wallPerStep),
                                     "steps_per_cpu_second": round3(1 / cpuPerStep),
                                     "setup_cpu_seconds": round3(max(0, long.cpu - Double(steps) * cpuPerStep))]
        if target > 0 {
            record["target_steps_per_cpu_second"] = target
            record["meets_target"] = 1 / cpuPerStep >= target
        }
        return record
    }

    func timed(_ body: () -> Void) -> (wall: Double, cpu: Double) {
        let cpuStart = clock()
        let wallStart = Date()
        body()
        return (Date().timeIntervalSince(wallStart), Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC))
    }

    func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

    func emit(_ record: [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])) ?? Data("{}".utf8)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
