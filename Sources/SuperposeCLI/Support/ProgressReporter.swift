import Foundation
import ToyModels

/// Shows training progress on standard error: a redrawn bar on a terminal, a plain line every few
/// seconds otherwise (logs, CI), nothing with `--quiet`.
final class ProgressReporter: @unchecked Sendable {
    private let title: String
    private let isTerminal: Bool
    /// The first report: rates count from it, since a reporter may be made long before its run
    /// starts (an APD reporter waits while the target trains).
    private var first: (step: Int, time: Date)?
    private var lastDraw = Date.distantPast
    private var finished = false
    private let lock = NSLock()

    private init(title: String) {
        self.title = title
        isTerminal = isatty(STDERR_FILENO) == 1
    }

    /// A progress callback for a training run, or nil when quiet.
    static func make(title: String, quiet: Bool) -> (@Sendable (TrainingProgress) -> Void)? {
        if quiet { return nil }
        let reporter = ProgressReporter(title: title)
        return { reporter.report($0) }
    }

    func report(_ progress: TrainingProgress) {
        let now = Date()
        let done = progress.step == progress.steps
        lock.lock(); defer { lock.unlock() }
        let interval = isTerminal ? 0.1 : 5.0
        // Several threads may report the last step; draw it once.
        guard !finished, done || now.timeIntervalSince(lastDraw) >= interval else { return }
        finished = done
        lastDraw = now
        let origin = first ?? (progress.step, now)
        if first == nil { first = origin }
        let elapsed = now.timeIntervalSince(origin.time), stepsSince = progress.step - origin.step
        let fraction = Double(progress.step) / Double(progress.steps)
        var stats = String(format: "step %d/%d  loss %.5f", progress.step, progress.steps, Double(progress.loss))
        if stepsSince > 0 && elapsed > 0 {
            let rate = Double(stepsSince) / elapsed
            stats += String(format: "  %.0f steps/s  %@ left", rate, Self.duration(Double(progress.steps - progress.step) / rate))
        }
        if isTerminal {
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            FileHandle.standardError.write(Data("\r\(title) \(bar) \(stats)\u{1B}[K\(done ? "\n" : "")".utf8))
        } else {
            FileHandle.standardError.write(Data("\(title): \(stats)\n".utf8))
        }
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 60 ? String(format: "%.1fs", seconds) : String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60)
    }
}
