import Foundation

/// A failure to read or write a tensor file, described in one line.
///
/// The description names the file (when known), what was wrong and what is accepted, e.g.
/// `model.safetensors: truncated: header says 812 bytes of JSON but the file has 40 bytes after the length prefix`.
/// It is meant to be shown to a person as is; `kind` lets code react without parsing text.
public struct IOError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The broad class of a failure.
    public enum Kind: Equatable, Sendable {
        /// The operating system refused an operation: a missing or unwritable directory, a directory in the way, a full disk.
        case fileSystem
        /// The file ends before the data its header announces.
        case truncated
        /// The header is not the JSON the format prescribes: bad length, bad UTF-8, bad syntax, missing or ill-typed fields.
        case invalidHeader
        /// The header names an element type this reader does not convert.
        case unsupportedDType
        /// Shapes and byte offsets disagree with each other or with the data buffer.
        case invalidLayout
    }

    /// The broad class of the failure.
    public var kind: Kind
    /// The file involved, if the failure concerns one.
    public var path: String?
    /// What went wrong and what would have been accepted, without the path.
    public var problem: String

    public init(_ kind: Kind, path: String? = nil, _ problem: String) {
        self.kind = kind
        self.path = path
        self.problem = problem
    }

    /// `"<path>: <problem>"`, always a single line.
    public var description: String {
        let line = path.map { "\($0): \(problem)" } ?? problem
        // Paths and tensor names come from outside; a stray newline must not split the message.
        return line.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
    }

    public var errorDescription: String? { description }

    /// The same error attributed to `path`, unless it already names a file.
    func attributed(to path: String?) -> IOError {
        var copy = self
        if copy.path == nil { copy.path = path }
        return copy
    }
}
