import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file writes that readers only ever see complete.
///
/// POSIX calls are used rather than `Data.write(to:options: .atomic)` because they let every
/// failure be reported precisely (which directory, which errno) and let the data be flushed to
/// disk before it replaces the old file.
public enum AtomicFile {
    /// Replaces the file at `url` with `data`, all or nothing.
    ///
    /// The bytes go to a uniquely named temporary file in the destination's directory
    /// (`.<name>.tmp-<pid>-<random>`), are flushed to disk, and the temporary file is then renamed
    /// over the destination. Until that rename an existing file at `url` is untouched, and a
    /// failure at any step removes the temporary file. An existing destination keeps its
    /// permission bits; a new one gets `0644` minus the process umask.
    /// - Throws: `IOError` of kind `.fileSystem` when the directory does not exist, is not
    ///   writable, `url` names a directory, or the disk refuses the data.
    public static func write(_ data: Data, to url: URL) throws {
        try write(data, to: url, beforeReplacing: { _ in })
    }

    /// `write(_:to:)` with a hook run after the temporary file is complete and before it replaces
    /// the destination; tests throw from it to simulate an interruption at the worst moment.
    static func write(_ data: Data, to url: URL, beforeReplacing hook: (URL) throws -> Void) throws {
        let destination = url.standardizedFileURL
        let path = destination.path
        let directory = destination.deletingLastPathComponent().path
        func failure(_ problem: String) -> IOError { IOError(.fileSystem, path: path, problem) }

        switch fileType(at: directory) {
        case .directory: break
        case .missing:
            throw failure("cannot write: directory \(directory) does not exist; create it first (AtomicFile.createDirectory(at:))")
        case .other:
            throw failure("cannot write: \(directory) is not a directory")
        case .error(let code):
            throw failure("cannot write: cannot inspect directory \(directory): \(reason(code))")
        }
        var existingMode: mode_t?
        switch fileType(at: path) {
        case .directory:
            throw failure("cannot write: a directory is in the way; expected a path to a regular file")
        case .other:
            existingMode = permissionBits(at: path)
        case .missing, .error:
            break
        }

        let (temporaryPath, descriptor) = try createTemporaryFile(nextTo: destination, failure: failure)
        var isOpen = true
        var isPlaced = false
        defer {
            if isOpen { _ = close(descriptor) }
            if !isPlaced { _ = unlink(temporaryPath) }
        }

        if let mode = existingMode { _ = fchmod(descriptor, mode) }
        try writeAll(data, to: descriptor, failure: failure)
        // Without fsync a crash soon after the rename can leave an empty file on journaling
        // file systems that delay allocation, which is exactly what atomic replacement must avoid.
        guard fsync(descriptor) == 0 else {
            throw failure("cannot flush \(temporaryPath) to disk: \(reason(errno))")
        }
        isOpen = false
        guard close(descriptor) == 0 else {
            throw failure("cannot close \(temporaryPath): \(reason(errno))")
        }
        try hook(URL(fileURLWithPath: temporaryPath))
        guard rename(temporaryPath, path) == 0 else {
            throw failure("cannot move the finished temporary file into place: \(reason(errno))")
        }
        isPlaced = true
        syncDirectory(directory)
    }

    /// Creates the directory at `url` and any missing parents; does nothing if it already exists.
    /// - Throws: `IOError` of kind `.fileSystem` naming the first path component that could not
    ///   be created or is a file rather than a directory.
    public static func createDirectory(at url: URL) throws {
        let target = url.standardizedFileURL.path
        // Walk up to the deepest existing ancestor first, so a failure names the exact culprit.
        var missing: [String] = []
        var current = target
        search: while true {
            switch fileType(at: current) {
            case .directory:
                break search
            case .other:
                throw IOError(.fileSystem, path: target, "cannot create directory: \(current) exists and is not a directory")
            case .error(let code):
                throw IOError(.fileSystem, path: target, "cannot create directory: cannot inspect \(current): \(reason(code))")
            case .missing:
                missing.append(current)
                let parent = (current as NSString).deletingLastPathComponent
                if parent == current || parent.isEmpty { break search }
                current = parent
            }
        }
        for component in missing.reversed() where mkdir(component, 0o755) != 0 {
            let code = errno
            // Another process may have created it between the check and mkdir; that is success.
            if code == EEXIST, case .directory = fileType(at: component) { continue }
            throw IOError(.fileSystem, path: target, "cannot create directory \(component): \(reason(code))")
        }
    }

    // MARK: - Helpers

    private enum FileType {
        case missing, directory, other
        case error(Int32)
    }

    private static func fileType(at path: String) -> FileType {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            return code == ENOENT || code == ENOTDIR ? .missing : .error(code)
        }
        return (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .other
    }

    private static func permissionBits(at path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return info.st_mode & 0o7777
    }

    private static func createTemporaryFile(
        nextTo destination: URL, failure: (String) -> IOError
    ) throws -> (path: String, descriptor: Int32) {
        let directory = destination.deletingLastPathComponent()
        // Keep the name well under NAME_MAX (255) even for long destination names.
        let stem = String(destination.lastPathComponent.utf8.prefix(200)) ?? "file"
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            let name = ".\(stem).tmp-\(getpid())-\(suffix)"
            let path = directory.appendingPathComponent(name).path
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor >= 0 { return (path, descriptor) }
            let code = errno
            if code == EEXIST { continue }
            if code == EACCES || code == EPERM {
                throw failure("cannot write: directory \(directory.path) is not writable (\(reason(code))); choose a writable directory")
            }
            throw failure("cannot create a temporary file in \(directory.path): \(reason(code))")
        }
        throw failure("cannot create a temporary file in \(directory.path): 16 random names were all taken")
    }

    private static func writeAll(_ data: Data, to descriptor: Int32, failure: (String) -> IOError) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                // Large single writes are split because some kernels cap one write near 2 GiB.
                let chunk = min(buffer.count - offset, 1 << 30)
                let written = systemWrite(descriptor, base + offset, chunk)
                if written < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    throw failure("cannot write data (\(offset) of \(buffer.count) bytes written): \(reason(code))")
                }
                offset += written
            }
        }
    }

    /// Makes the rename itself durable; best effort because some file systems refuse to sync directories.
    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        _ = close(descriptor)
    }

    private static func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(descriptor, bytes, count)
        #elseif canImport(Musl)
        return Musl.write(descriptor, bytes, count)
        #else
        return Darwin.write(descriptor, bytes, count)
        #endif
    }

    /// The errno text in lower case, e.g. `permission denied`.
    static func reason(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
