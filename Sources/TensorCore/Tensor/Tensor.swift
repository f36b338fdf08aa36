import Foundation

/// A dense, row-major tensor of `Float` scalars.
///
/// Shapes follow the convention of the whole package: the leading axis is the instance axis
/// when a tensor holds many models trained side by side, e.g. `W: [instance, m, n]`.
/// `Tensor` is a value type; its storage is copied on write like any Swift array.
public struct Tensor: Equatable, Sendable, CustomStringConvertible {
    /// The extent of each axis, outermost first.
    public private(set) var shape: [Int]
    /// The scalars in row-major order; `scalars.count == shape.product`.
    public var scalars: [Float]

    /// Creates a tensor from scalars in row-major order.
    /// - Precondition: `scalars.count` equals the product of `shape` (a programming error otherwise).
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative extent")
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of the given shape with every scalar equal to `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(repeating: 0, shape: shape)
    }

    /// A rank-0 tensor holding one scalar.
    public init(scalar: Float) {
        self.init(shape: [], scalars: [scalar])
    }

    /// A rank-1 tensor.
    public init(_ values: [Float]) {
        self.init(shape: [values.count], scalars: values)
    }

    /// The number of scalars.
    public var count: Int { scalars.count }
    /// The number of axes.
    public var rank: Int { shape.count }
    /// The single scalar of a tensor with one element.
    public var scalar: Float {
        precondition(count == 1, "scalar needs a one-element tensor, shape is \(shape)")
        return scalars[0]
    }

    /// Row-major strides of `shape`, in scalars.
    public var strides: [Int] { Tensor.strides(of: shape) }

    /// Row-major strides of a shape, in scalars.
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// The flat position of a multi-index.
    @inlinable
    public func offset(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "expected \(shape.count) indices, got \(indices.count)")
        var offset = 0
        for (index, extent) in Swift.zip(indices, shape) {
            precondition(index >= 0 && index < extent, "index \(indices) out of range for shape \(shape)")
            offset = offset * extent + index
        }
        return offset
    }

    /// The scalar at a multi-index.
    public subscript(_ indices: Int...) -> Float {
        get { scalars[offset(indices)] }
        set { scalars[offset(indices)] = newValue }
    }

    /// The same scalars under another shape with the same number of elements.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// The sub-tensor at `index` along the leading axis: `[d0, d1, ...] -> [d1, ...]`.
    public func slice(_ index: Int) -> Tensor {
        precondition(rank >= 1 && index >= 0 && index < shape[0], "slice \(index) out of range for shape \(shape)")
        let inner = Array(shape.dropFirst())
        let size = inner.reduce(1, *)
        return Tensor(shape: inner, scalars: Array(scalars[index * size ..< (index + 1) * size]))
    }

    /// Stacks tensors of equal shape along a new leading axis.
    public static func stacked(_ tensors: [Tensor]) -> Tensor {
        precondition(!tensors.isEmpty, "stacked needs at least one tensor")
        let inner = tensors[0].shape
        precondition(tensors.allSatisfy { $0.shape == inner }, "stacked needs tensors of one shape")
        return Tensor(shape: [tensors.count] + inner, scalars: tensors.flatMap(\.scalars))
    }

    public var description: String {
        let preview = scalars.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }
}

extension Array where Element == Int {
    /// The product of the extents: the number of scalars of a shape.
    public var product: Int { reduce(1, *) }
}
