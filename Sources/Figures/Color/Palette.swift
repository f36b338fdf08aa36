/// Categorical colours for distinguishing series or classes.
public enum Palette {
    /// Matplotlib's `tab10` (the D3 "category10" colours).
    public static let tab10: [Color] = [
        0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD,
        0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF,
    ].map { Color(hex: $0) }

    /// The `index`-th categorical colour, cycling through `tab10`.
    public static func categorical(_ index: Int) -> Color {
        let count = tab10.count
        return tab10[((index % count) + count) % count]
    }
}
