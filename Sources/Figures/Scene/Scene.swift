/// A fixed-size canvas of drawing primitives, rendered by ``Figure`` to SVG or PNG.
public struct Scene: Sendable {
    public var size: Size
    /// Fill behind everything; `nil` leaves the background transparent.
    public var background: Color?
    /// Used as the SVG `<title>` for accessibility.
    public var title: String
    public var primitives: [Primitive]

    public init(size: Size, background: Color? = .white, title: String = "", primitives: [Primitive] = []) {
        self.size = size
        self.background = background
        self.title = title
        self.primitives = primitives
    }

    public mutating func add(_ primitive: Primitive) {
        primitives.append(primitive)
    }

    public mutating func add(contentsOf primitives: [Primitive]) {
        self.primitives.append(contentsOf: primitives)
    }
}
