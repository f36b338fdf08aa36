import Foundation
import TensorCore

/// The reference's `unit_norm_matrices`: every column A[c, :, k] of every layer has unit norm, and
/// the gradient's component along the column is removed before the optimiser step.
///
/// The reference normalises at the start of each step. `update` does the same work block by block
/// inside the optimiser step (project the gradient, update, normalise), so that each A_c block
/// (200 KB in the residual MLP) is read from memory once instead of three times.
enum UnitNormColumns {
    /// Rescales every column of A to unit norm. store: `[instances, layout.count]`.
    static func normalise(_ store: inout Tensor, layout: ComponentLayout, instances: Int) {
        store.scalars.withUnsafeMutableBufferPointer { p in
            let base = UncheckedSendable(p.baseAddress!)
            forEach(blocks(layout: layout, instances: instances), rank: layout.rank) { start, rows, scratch in
                normaliseBlock(base.value + start, rows: rows, rank: layout.rank, scratch: scratch)
            }
        }
    }

    /// One optimiser step of `store` from `gradients` (both `[instances, layout.count]`), with each
    /// A_c block's gradient projected off its columns first and, when `normalising`, its columns
    /// rescaled to unit norm after: the parameters and gradients of the reference's step followed by
    /// the next step's normalisation. The other parameters are updated as usual.
    static func update(_ store: inout Tensor, gradients: inout Tensor, optimizer: inout Adam, learningRate: Float,
                       layout: ComponentLayout, instances: Int, normalising: Bool) {
        let (k, blocks) = (layout.rank, blocks(layout: layout, instances: instances))
        optimizer.update(&store, gradients: &gradients, learningRate: learningRate) { step in
            let (p, g) = (UncheckedSendable(step.parameters), UncheckedSendable(step.gradients))
            forEach(blocks, rank: k) { start, rows, scratch in
                projectBlock(g.value + start, along: p.value + start, rows: rows, rank: k, scratch: scratch)
                step.apply(start..<(start + rows * k))
                if normalising { normaliseBlock(p.value + start, rows: rows, rank: k, scratch: scratch) }
            }
            // Everything outside the A blocks (the B matrices), in pieces small enough for the cores
            // to share out evenly when there are millions.
            var gaps: [Range<Int>] = [], next = 0
            for block in blocks {
                if block.start > next { gaps.append(next..<block.start) }
                next = block.start + block.rows * k
            }
            if next < step.count { gaps.append(next..<step.count) }
            guard step.count >= 1 << 20 else { return gaps.forEach(step.apply) }
            let piece = 1 << 16
            let pieces = gaps.flatMap { gap in stride(from: gap.lowerBound, to: gap.upperBound, by: piece).map { $0..<min($0 + piece, gap.upperBound) } }
            DispatchQueue.concurrentPerform(iterations: pieces.count) { step.apply(pieces[$0]) }
        }
    }

    /// Rescales the columns of a: `[rows, rank]` to unit norm (norms below 1e-12 count as 1e-12).
    private static func normaliseBlock(_ a: UnsafeMutablePointer<Float>, rows: Int, rank k: Int, scratch norms: UnsafeMutablePointer<Float>) {
        norms.update(repeating: 0, count: k)
        for i in 0..<rows { BatchVectors.addSquares(a + i * k, norms, k) }
        for r in 0..<k { norms[r] = 1 / max(norms[r].squareRoot(), 1e-12) }
        for i in 0..<rows { BatchVectors.multiply(norms, a + i * k, a + i * k, k) }
    }

    /// Removes from ga: `[rows, rank]` its component along each (unit) column of a: `[rows, rank]`.
    private static func projectBlock(_ ga: UnsafeMutablePointer<Float>, along a: UnsafePointer<Float>, rows: Int, rank k: Int,
                                     scratch along: UnsafeMutablePointer<Float>) {
        along.update(repeating: 0, count: k)
        for i in 0..<rows { BatchVectors.addProduct(ga + i * k, a + i * k, along, k) }
        for i in 0..<rows { BatchVectors.subtractProduct(along, a + i * k, ga + i * k, k) }
    }

    /// Each A_c block `[d_in, rank]` of each layer and instance, in storage order (`ComponentLayout`
    /// puts A_0, B_0, A_1, …): its first index and its rows.
    private static func blocks(layout: ComponentLayout, instances: Int) -> [(start: Int, rows: Int)] {
        (0..<instances).flatMap { instance in
            layout.layers.indices.flatMap { l in
                (0..<layout.components).map { c in
                    (start: instance * layout.count + layout.aOffsets[l] + c * layout.layers[l].inputs * layout.rank, rows: layout.layers[l].inputs)
                }
            }
        }
    }

    /// Calls `body(start, rows, scratch)` for each A_c block of `blocks`, with `rank` floats of
    /// scratch. Blocks are independent, so millions of parameters are shared out over the cores
    /// block by block (they differ in size by d_in) without changing any result.
    private static func forEach(_ blocks: [(start: Int, rows: Int)], rank: Int, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let size = blocks.reduce(0) { $0 + $1.rows } * rank
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            let run: @Sendable ((start: Int, rows: Int)) -> Void = { block in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: rank) { shared.value(block.start, block.rows, $0.baseAddress!) }
            }
            if size >= 1 << 20 {
                DispatchQueue.concurrentPerform(iterations: blocks.count) { run(blocks[$0]) }
            } else {
                blocks.forEach(run)
            }
        }
    }
}
