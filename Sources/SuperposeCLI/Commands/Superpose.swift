import ArgumentParser
import Foundation

/// The `superpose` command line.
///
/// Every numeric option is declared with `parsing: .unconditional`, so that a negative value such as
/// `--m -3` reaches the settings' validation ("must be at least 1, got -3") instead of being read as
/// the next option and reported as a missing value.
public struct Superpose: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "superpose",
        abstract: "Train toy models of superposition, measure them, and write reports.",
        discussion: "With no subcommand, runs the showcase: T1 and T2 of Toy Models of Superposition.",
        subcommands: [Showcase.self, TMS.self, Phase.self, AbsoluteValue.self, Interference.self, Decompose.self, Report.self, Inspect.self, Bench.self],
        defaultSubcommand: Showcase.self)

    public init() {}

    /// Parses the arguments and runs the command. Errors are printed as one line
    /// (`superpose: error: …`) with a non-zero exit; help and version requests print as usual.
    public static func runMain(arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            exit(withError: nil)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("superpose: error: \(message)\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }
}
