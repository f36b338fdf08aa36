import Foundation

// Elementwise operations with broadcasting, and activations.
extension Variable {
    public static func + (a: Variable, b: Variable) -> Variable {
        let out = a.value + b.value
        let (sa, sb) = (a.shape, b.shape)
        return a.tape.record(out, inputs: [a, b]) { g in [g.unbroadcast(to: sa), g.unbroadcast(to: sb)] }
    }

    public static func - (a: Variable, b: Variable) -> Variable {
        let out = a.value - b.value
        let (sa, sb) = (a.shape, b.shape)
        return a.tape.record(out, inputs: [a, b]) { g in [g.unbroadcast(to: sa), (-g).unbroadcast(to: sb)] }
    }

    public static func * (a: Variable, b: Variable) -> Variable {
        let (va, vb) = (a.value, b.value)
        return a.tape.record(va * vb, inputs: [a, b]) { g in
            [(g * vb).unbroadcast(to: va.shape), (g * va).unbroadcast(to: vb.shape)]
        }
    }

    public static func / (a: Variable, b: Variable) -> Variable {
        let (va, vb) = (a.value, b.value)
        return a.tape.record(va / vb, inputs: [a, b]) { g in
            [(g / vb).unbroadcast(to: va.shape), (-(g * va) / (vb * vb)).unbroadcast(to: vb.shape)]
        }
    }

    public static func * (a: Variable, s: Float) -> Variable {
        a.tape.record(a.value * s, inputs: [a]) { g in [g * s] }
    }

    public static func * (s: Float, a: Variable) -> Variable { a * s }

    public static func + (a: Variable, s: Float) -> Variable {
        a.tape.record(a.value + s, inputs: [a]) { g in [g] }
    }

    public static prefix func - (a: Variable) -> Variable { a * -1 }

    /// Applies `function` elementwise; `derivative(x, y)` gives dy/dx from input x and output y.
    public func elementwise(_ function: (Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Variable {
        let x = value
        let y = x.map(function)
        return tape.record(y, inputs: [self]) { g in
            var dx = g
            for i in 0..<dx.count { dx.scalars[i] *= derivative(x.scalars[i], y.scalars[i]) }
            return [dx]
        }
    }

    public func relu() -> Variable { elementwise({ max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 }) }

    /// GELU with the exact Gaussian CDF, as PyTorch's default: x·Φ(x).
    public func gelu() -> Variable {
        elementwise({ x in 0.5 * x * (1 + erf(x / 2.0.squareRoot().float)) },
                    derivative: { x, _ in
                        let cdf = 0.5 * (1 + erf(x / 2.0.squareRoot().float))
                        let density = Foundation.exp(-0.5 * x * x) / (2 * Float.pi).squareRoot()
                        return cdf + x * density
                    })
    }

    public func sigmoid() -> Variable {
        elementwise({ 1 / (1 + Foundation.exp(-$0)) }, derivative: { _, y in y * (1 - y) })
    }

    public func squared() -> Variable { elementwise({ $0 * $0 }, derivative: { x, _ in 2 * x }) }
    public func exp() -> Variable { elementwise({ Foundation.exp($0) }, derivative: { _, y in y }) }
    public func log() -> Variable { elementwise({ Foundation.log($0) }, derivative: { x, _ in 1 / x }) }
    public func abs() -> Variable { elementwise({ Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }

    /// x^p for a constant exponent, on x > 0 (and x = 0 where p >= 1).
    public func power(_ p: Float) -> Variable {
        elementwise({ Foundation.pow($0, p) }, derivative: { x, _ in x == 0 ? (p == 1 ? 1 : 0) : p * Foundation.pow(x, p - 1) })
    }

    /// Entries where `mask` is 0 replaced by `fill`; gradients pass only where `mask` is 1.
    /// `mask` broadcasts to the value's shape (e.g. a causal mask `[seq, seq]` over `[batch, head, seq, seq]`).
    public func masked(by mask: Tensor, fill: Float) -> Variable {
        let full = mask.broadcast(to: shape)
        let out = Tensor.zip(value, full) { x, m in m != 0 ? x : fill }
        return tape.record(out, inputs: [self]) { g in [Tensor.zip(g, full) { gi, m in m != 0 ? gi : 0 }] }
    }
}

extension Double {
    var float: Float { Float(self) }
}
