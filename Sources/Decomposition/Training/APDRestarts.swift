extension APDTrainer {
    /// Per instance, the run whose loss over the last tenth of its recorded steps is the lowest
    /// (ties to the earlier run); the result holds each instance's parameters, history and final
    /// terms from its run, and the seeds. All runs share the layout and the recorded steps.
    ///
    /// The mean over several recorded batches, not the last one alone, so that batch noise does not
    /// decide: on TMS 40-10 the runs that separate every feature end 3–7 % lower than those
    /// that merge a pair (a local minimum the seed decides).
    static func bestPerInstance(of runs: [APDResult]) -> APDResult {
        guard var best = runs.first, runs.count > 1 else { return runs[0] }
        let records = best.history.steps.count, instances = best.finalTerms.count, width = best.layout.count
        let lastSteps = best.history.steps.last ?? 0
        let tail = (0..<records).filter { best.history.steps[$0] > lastSteps - lastSteps / 10 }
        func endLoss(_ run: APDResult, _ instance: Int) -> Double {
            guard !tail.isEmpty else { return run.finalTerms[instance].total }
            return tail.map { run.history.terms[$0][instance].total }.reduce(0, +) / Double(tail.count)
        }
        for instance in 0..<instances {
            let chosen = runs.indices.min { endLoss(runs[$0], instance) < endLoss(runs[$1], instance) }!
            let run = runs[chosen]
            for j in 0..<width { best.parameters.scalars[instance * width + j] = run.parameters.scalars[instance * width + j] }
            for r in 0..<records { best.history.terms[r][instance] = run.history.terms[r][instance] }
            best.finalTerms[instance] = run.finalTerms[instance]
            best.seeds[instance] = run.seeds[instance]
        }
        best.seconds = runs.map(\.seconds).reduce(0, +)
        return best
    }
}
