import Foundation
import XCTest
@testable import Experiments

final class RunFolderTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("run-folder-\(UUID().uuidString)", isDirectory: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    struct Failure: Error {}

    func testAFilledFolderKeepsItsFiles() throws {
        let root = scratch.appendingPathComponent("runs")
        let folder = try RunFolder.create(under: root, experiment: "demo") { folder in
            try folder.write(config: ["name": "demo"], metrics: ["loss": 0.5]) { try Data([1, 2, 3]).write(to: $0) }
            return folder
        }
        XCTAssertTrue(folder.url.lastPathComponent.hasPrefix("demo-"))
        for url in [folder.configURL, folder.modelURL, folder.metricsURL] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), url.lastPathComponent)
        }
        XCTAssertEqual(try Data(contentsOf: folder.modelURL), Data([1, 2, 3]))
        XCTAssertEqual(try JSONDecoder().decode([String: Double].self, from: Data(contentsOf: folder.metricsURL)), ["loss": 0.5])
    }

    func testAFailedRunLeavesNothingBehind() throws {
        let root = scratch.appendingPathComponent("runs")
        XCTAssertThrowsError(try RunFolder.create(under: root, experiment: "demo") { folder -> Void in
            try folder.writeJSON(["partial": true], to: folder.configURL)
            throw Failure()
        }) { XCTAssertTrue($0 is Failure) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.path), "the root this call created is removed again")
    }

    func testAFailedRunKeepsTheUsersOtherFiles() throws {
        let root = scratch.appendingPathComponent("runs")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let earlier = root.appendingPathComponent("earlier-run.txt")
        try Data("keep me".utf8).write(to: earlier)
        XCTAssertThrowsError(try RunFolder.create(under: root, experiment: "demo") { _ -> Void in throw Failure() })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path), ["earlier-run.txt"])
        XCTAssertEqual(try String(contentsOf: earlier, encoding: .utf8), "keep me")
    }

    func testAnExistingEmptyRootStays() throws {
        let root = scratch.appendingPathComponent("runs")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        XCTAssertThrowsError(try RunFolder.create(under: root, experiment: "demo") { _ -> Void in throw Failure() })
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.path), "a root the user already had is not ours to remove")
    }
}
