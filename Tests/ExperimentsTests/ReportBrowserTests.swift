import Foundation
import XCTest
import Experiments

/// A real browser opens a run's report.html and renders a page that is not blank.
/// `.ci/run` installs Debian's chromium headless shell; on a machine without a browser the test skips.
final class ReportBrowserTests: XCTestCase {
    static let browserNames = ["chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"]

    func browser() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in Self.browserNames {
            for folder in path.split(separator: ":") {
                let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
        }
        throw XCTSkip("no headless browser found (looked for \(Self.browserNames.joined(separator: ", "))); install chromium-headless-shell to run this test")
    }

    /// Screenshots `page` and returns the PNG's size in bytes.
    func screenshotSize(of page: URL, browser: URL, into folder: URL, name: String) throws -> Int {
        let shot = folder.appendingPathComponent("\(name).png")
        let process = Process()
        process.executableURL = browser
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--window-size=1200,1600", "--screenshot=\(shot.path)", page.absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let data = try Data(contentsOf: shot)
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        return data.count
    }

    func testReportRendersInAHeadlessBrowser() throws {
        let browser = try browser()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("browser-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        var config = TMSPreset.t1.config
        config.training.steps = 500
        let outcome = try TMSExperiment.run(config, under: root)
        let report = outcome.folder.url.appendingPathComponent("report.html")
        XCTAssertTrue(FileManager.default.fileExists(atPath: report.path))

        let blank = root.appendingPathComponent("blank.html")
        try Data("<!doctype html><html><body></body></html>".utf8).write(to: blank)
        let blankSize = try screenshotSize(of: blank, browser: browser, into: root, name: "blank")
        let reportSize = try screenshotSize(of: report, browser: browser, into: root, name: "report")
        // Text, tables and figures compress far worse than an empty white page.
        XCTAssertGreaterThan(reportSize, 5 * blankSize, "report screenshot (\(reportSize) bytes) looks blank next to an empty page (\(blankSize) bytes)")
    }
}
