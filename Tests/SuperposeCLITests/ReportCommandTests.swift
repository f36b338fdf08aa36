import Foundation
import XCTest

/// `superpose report`: re-renders a run folder, and names what is wrong in one line when it cannot.
/// An extension so it shares the built-executable helpers of `CommandLineErrorTests`.
extension CommandLineErrorTests {
    func testReportOnAMissingFolder() throws {
        try assertOneLineError(["report", scratch.appendingPathComponent("no-such-run").path], mentions: "no such run folder")
        try assertOneLineError(["report"], mentions: "run-folder")
    }

    func testReportOnAFolderWithoutMetrics() throws {
        let folder = scratch.appendingPathComponent("empty-run")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(#"{"name": "T1", "features": 5, "hidden": 2, "instances": 10}"#.utf8)
            .write(to: folder.appendingPathComponent("config.json"))
        try assertOneLineError(["report", folder.path], mentions: "metrics.json: cannot read the file (no such file)")
        try Data("[1, 2".utf8).write(to: folder.appendingPathComponent("metrics.json"))
        try assertOneLineError(["report", folder.path], mentions: "metrics.json: not valid JSON")
    }

    /// A run prints its report path; `report` re-renders the same page from the folder.
    func testRunsEndWithAReportThatReportReRenders() throws {
        let first = try run(["tms", "--preset", "T1", "--steps", "300", "--quiet", "--output", "out"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let folders = try FileManager.default.contentsOfDirectory(atPath: scratch.appendingPathComponent("out").path)
        let folder = scratch.appendingPathComponent("out").appendingPathComponent(folders[0])
        let page = folder.appendingPathComponent("report.html")
        XCTAssertTrue(first.stdout.contains("T1 report: "), first.stdout)
        let original = try Data(contentsOf: page)
        try FileManager.default.removeItem(at: page)
        let again = try run(["report", folder.path, "--png"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains(page.lastPathComponent), again.stdout)
        XCTAssertEqual(try Data(contentsOf: page), original)
        let figures = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("figures").path)
        XCTAssertTrue(figures.contains("feature-arrows.svg") && figures.contains("feature-arrows.png"), "\(figures)")
    }

    /// Phase-diagram, absolute-value and interference runs re-render too: the config says which experiment it was.
    func testReportReRendersPhaseAndAbsoluteValueRuns() throws {
        for arguments in [["phase", "--preset", "2-1", "--grid", "2", "--steps", "50"], ["abs", "--preset", "small", "--steps", "50"],
                          ["interference", "--preset", "I1", "--steps", "50", "--converged-steps", "60", "--evaluation-samples", "2000"]] {
            let output = "out-\(arguments[0])"
            let first = try run(arguments + ["--quiet", "--output", output])
            XCTAssertEqual(first.status, 0, first.stderr)
            let root = scratch.appendingPathComponent(output)
            let folder = root.appendingPathComponent(try FileManager.default.contentsOfDirectory(atPath: root.path)[0])
            let page = folder.appendingPathComponent("report.html")
            let original = try Data(contentsOf: page)
            try FileManager.default.removeItem(at: page)
            let again = try run(["report", folder.path])
            XCTAssertEqual(again.status, 0, again.stderr)
            XCTAssertEqual(try Data(contentsOf: page), original, arguments[0])
        }
    }
}
