import XCTest
import TensorCore

final class ContiguousPartitionTests: XCTestCase {
    func testEvenSplitSizesDifferByAtMostOne() {
        XCTAssertEqual(ContiguousPartition.even(count: 10, parts: 3), [0..<3, 3..<6, 6..<10])
        XCTAssertEqual(ContiguousPartition.even(count: 2, parts: 3), [0..<0, 0..<1, 1..<2])
        XCTAssertEqual(ContiguousPartition.even(count: 0, parts: 2), [0..<0, 0..<0])
    }

    func testBalancedCutsWhereTheRunningTotalIsNearestEachShare() {
        XCTAssertEqual(ContiguousPartition.balanced(weights: [1, 1, 1, 1], parts: 2), [0..<2, 2..<4])
        // One heavy item takes a part to itself.
        XCTAssertEqual(ContiguousPartition.balanced(weights: [5, 1, 1, 1, 1, 1], parts: 2), [0..<1, 1..<6])
        XCTAssertEqual(ContiguousPartition.balanced(weights: [1, 100, 1], parts: 3), [0..<1, 1..<2, 2..<3])
        // Dense instances first, as in T3 (step times in µs): an even split gives the dense half 63 % of the work.
        let t3: [Double] = [268, 268, 267, 267, 267, 267, 268, 267, 279, 281, 234, 209, 192, 182, 163, 145, 132, 119, 109, 99]
        XCTAssertEqual(ContiguousPartition.balanced(weights: t3, parts: 2), [0..<8, 8..<20])
        // No weight at all: the even split.
        XCTAssertEqual(ContiguousPartition.balanced(weights: [0, 0, 0], parts: 2), [0..<1, 1..<3])
        XCTAssertEqual(ContiguousPartition.balanced(weights: [3, 1], parts: 1), [0..<2])
    }

    /// Each cut lies within half an item of its share, so no part exceeds its share by more than the heaviest item.
    func testNoPartExceedsItsShareByMoreThanTheHeaviestItem() {
        var generator = RandomGenerator(seed: 7)
        for trial in 0..<200 {
            let count = 1 + trial % 37, parts = 1 + trial % 5
            let weights = (0..<count).map { _ in Double.random(in: 0..<10, using: &generator) * (Bool.random(using: &generator) ? 1 : 0.01) }
            let ranges = ContiguousPartition.balanced(weights: weights, parts: parts)
            XCTAssertEqual(ranges.count, parts)
            XCTAssertEqual(ranges.first?.lowerBound, 0)
            XCTAssertEqual(ranges.last?.upperBound, count)
            for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
            let total = weights.reduce(0, +), heaviest = weights.max() ?? 0
            for range in ranges {
                let part = weights[range].reduce(0, +)
                XCTAssertLessThanOrEqual(part, total / Double(parts) + heaviest + 1e-9, "weights \(weights), parts \(parts)")
            }
        }
    }
}
