extension String {
    /// The string left-aligned in `width` characters; `String(format:)` ignores widths of `%@` on Linux.
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
