import Foundation

/// The note's heuristic scores for finding real weights, one value per virtual weight (row-major `[n, n]`).
public struct WeightScores: Sendable {
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case magnitude = "|U|"
        case era = "ERA"
        case twera = "TWERA"
        case frequency
        case oracle = "oracle ΔL"
    }

    public var values: [Kind: [Double]]
    /// Output rows whose TWERA divides by a tiny E[y'_i] (fewer than `minimumFirings` firing samples, or
    /// E[y'_i] below `minimumMeanOutput`): their TWERA scores are kept but unreliable.
    public var unstableTWERARows: [Int]

    public static let minimumFirings = 10.0
    public static let minimumMeanOutput = 1e-6

    /// |U_ij|; ERA = E[1(y'_i > 0) x_j] U_ij; TWERA = E[y'_i x_j] / E[y'_i] · U_ij (0 where E[y'_i] = 0);
    /// frequency = E[1(y'_i > 0) 1(x_j > 0)]; oracle = ΔL(U_ij).
    public init(model: LiftedModel, statistics: LiftedStatistics, ablation: WeightAblation) {
        let n = model.featureCount
        var magnitude = [Double](repeating: 0, count: n * n), era = magnitude, twera = magnitude
        for i in 0..<n {
            let mean = statistics.meanOutput[i]
            for j in 0..<n {
                let k = i * n + j, u = Double(model.virtualWeights[k])
                magnitude[k] = abs(u)
                era[k] = statistics.activeTimesInput[k] * u
                twera[k] = mean > 0 ? statistics.outputTimesInput[k] / mean * u : 0
            }
        }
        values = [.magnitude: magnitude, .era: era, .twera: twera, .frequency: statistics.coFiring, .oracle: ablation.deltaLoss]
        unstableTWERARows = (0..<n).filter { i in
            statistics.firingRate[i] * Double(statistics.sampleCount) < Self.minimumFirings
                || statistics.meanOutput[i] < Self.minimumMeanOutput
        }
    }
}

/// Keeping the top k weights by a score, for every k: precision and recall against the real weights
/// (Definition 2), and the loss gain Σ ΔL over the kept weights.
public struct RankingCurve: Codable, Equatable, Sendable {
    public var name: String
    /// Weight indices (row-major i·n + j) by decreasing score; ties by index.
    public var order: [Int]
    /// Entry k − 1 describes the top k weights.
    public var precision: [Double]
    public var recall: [Double]
    public var lossGain: [Double]
    public var realCount: Int

    public init(name: String, scores: [Double], deltaLoss: [Double], real: [Bool]) {
        precondition(scores.count == deltaLoss.count && scores.count == real.count, "scores, ΔL and labels must have one entry per weight")
        self.name = name
        order = scores.indices.sorted { a, b in
            let (sa, sb) = (scores[a].isNaN ? -Double.infinity : scores[a], scores[b].isNaN ? -Double.infinity : scores[b])
            return sa != sb ? sa > sb : a < b
        }
        realCount = real.filter { $0 }.count
        var hits = 0, gain = 0.0
        precision = []; recall = []; lossGain = []
        precision.reserveCapacity(order.count); recall.reserveCapacity(order.count); lossGain.reserveCapacity(order.count)
        for (k, index) in order.enumerated() {
            if real[index] { hits += 1 }
            gain += deltaLoss[index]
            precision.append(Double(hits) / Double(k + 1))
            recall.append(realCount > 0 ? Double(hits) / Double(realCount) : 0)
            lossGain.append(gain)
        }
    }

    /// Area under the precision–recall curve (average precision: mean precision at each real weight found).
    public var averagePrecision: Double {
        guard realCount > 0 else { return 0 }
        var sum = 0.0, previous = 0.0
        for k in recall.indices where recall[k] > previous { sum += precision[k] * (recall[k] - previous); previous = recall[k] }
        return sum
    }

    /// Points at about `count` values of k spread over 1...N (always including k = N), for figures.
    public func sampledRanks(count: Int) -> [Int] {
        let total = order.count
        guard total > 0 else { return [] }
        var ranks = Set<Int>()
        let c = max(2, count)
        for t in 0..<c {
            // Denser at small k, where the curves differ most.
            let f = Double(t) / Double(c - 1)
            ranks.insert(max(1, min(total, Int((pow(Double(total), f)).rounded()))))
            ranks.insert(max(1, min(total, Int((f * Double(total)).rounded()))))
        }
        return ranks.sorted()
    }
}
