import Foundation
import TensorCore
import ToyModels

/// Which uniform polytopes one instance's represented features form (Toy Models of Superposition,
/// section 7: features organise into dedicated dimensions, antipodal pairs, triangles, tetrahedra,
/// pentagons, … placed in mutually orthogonal subspaces).
///
/// Represented features (‖W_i‖ above ``SuperpositionMetrics/representationThreshold``) are grouped
/// by interference: two features share a group when |cos(W_i, W_j)| exceeds
/// ``Tolerance/coupling``, and groups are the connected components of that relation, so orthogonal
/// subspaces become separate groups. A group is then named by its pairwise angles, which fix a
/// polytope up to rotation, and by D_i (``SuperpositionMetrics/featureDimensionality``), which must
/// be close to the polytope's ideal value for every member:
///
/// | kind | features | pairwise angles | ideal D_i |
/// |---|---|---|---|
/// | dedicated | 1 | — | 1 |
/// | antipodal pair | 2 | 180° | 1/2 |
/// | triangle | 3 | 120° | 2/3 |
/// | tetrahedron | 4 | arccos(−1/3) ≈ 109.5° | 3/4 |
/// | pentagon | 5 | each has two neighbours at 72° and two at 144° (so they lie in a plane) | 2/5 |
///
/// Anything else (other sizes, irregular angles, D_i off the ideal) is `other`.
public struct FeatureGeometry: Codable, Equatable, Sendable {
    /// The shape a group of features forms.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case dedicated, antipodalPair, triangle, tetrahedron, pentagon, other

        /// D_i of every member in the ideal shape; nil for `other`.
        public var idealDimensionality: Float? {
            switch self {
            case .dedicated: return 1
            case .antipodalPair: return 1.0 / 2
            case .triangle: return 2.0 / 3
            case .tetrahedron: return 3.0 / 4
            case .pentagon: return 2.0 / 5
            case .other: return nil
            }
        }

        /// "antipodal pair", or "antipodal pairs" when `count` is not 1.
        public func name(count: Int = 1) -> String {
            let singular: String
            let plural: String
            switch self {
            case .dedicated: (singular, plural) = ("dedicated", "dedicated")
            case .antipodalPair: (singular, plural) = ("antipodal pair", "antipodal pairs")
            case .triangle: (singular, plural) = ("triangle", "triangles")
            case .tetrahedron: (singular, plural) = ("tetrahedron", "tetrahedra")
            case .pentagon: (singular, plural) = ("pentagon", "pentagons")
            case .other: (singular, plural) = ("other", "other")
            }
            return count == 1 ? singular : plural
        }
    }

    /// Features that interfere with each other, and no others.
    public struct Group: Codable, Equatable, Sendable {
        public var kind: Kind
        /// Feature indices, ascending.
        public var features: [Int]
        /// Σ D_i over the members: the hidden dimensions the group takes (1 for a pair, 2 for a
        /// pentagon, 3 for a tetrahedron).
        public var dimensions: Float
    }

    /// How many groups of each kind (a dedicated group is a single feature).
    public struct Counts: Codable, Equatable, Sendable {
        public var dedicated = 0
        public var antipodalPairs = 0
        public var triangles = 0
        public var tetrahedra = 0
        public var pentagons = 0
        public var other = 0

        public init(dedicated: Int = 0, antipodalPairs: Int = 0, triangles: Int = 0, tetrahedra: Int = 0,
                    pentagons: Int = 0, other: Int = 0) {
            self.dedicated = dedicated
            self.antipodalPairs = antipodalPairs
            self.triangles = triangles
            self.tetrahedra = tetrahedra
            self.pentagons = pentagons
            self.other = other
        }

        public subscript(kind: Kind) -> Int {
            get {
                switch kind {
                case .dedicated: return dedicated
                case .antipodalPair: return antipodalPairs
                case .triangle: return triangles
                case .tetrahedron: return tetrahedra
                case .pentagon: return pentagons
                case .other: return other
                }
            }
            set {
                switch kind {
                case .dedicated: dedicated = newValue
                case .antipodalPair: antipodalPairs = newValue
                case .triangle: triangles = newValue
                case .tetrahedron: tetrahedra = newValue
                case .pentagon: pentagons = newValue
                case .other: other = newValue
                }
            }
        }
    }

    /// How close a measured group must be to an ideal shape.
    public struct Tolerance: Equatable, Sendable {
        /// Largest difference, in degrees, between a pairwise angle and the shape's.
        public var angleDegrees: Double
        /// Largest |D_i − ideal D_i| of any member.
        public var dimensionality: Float
        /// Features with |cos(W_i, W_j)| above this belong to the same group (0.2 is about 78°).
        public var coupling: Float

        public init(angleDegrees: Double = 10, dimensionality: Float = 0.1, coupling: Float = 0.2) {
            self.angleDegrees = angleDegrees
            self.dimensionality = dimensionality
            self.coupling = coupling
        }

        public static let standard = Tolerance()
    }

    /// Groups ordered by kind (dedicated first, `other` last), then by their first feature.
    public var groups: [Group]
    public var counts: Counts
    /// Features with ‖W_i‖ at or below the representation threshold, ascending.
    public var unrepresented: [Int]

    /// The geometry of one instance's weights `w: [m, n]`, whose metrics are `metrics`.
    public init(weights w: Tensor, metrics: SuperpositionMetrics, tolerance: Tolerance = .standard) {
        precondition(w.rank == 2 && metrics.featureNorms.count == w.shape[1],
                     "weights must be [m, n] with one metric per feature, got \(w.shape)")
        let n = w.shape[1]
        let gram = w.matmul(w, transposeSelf: true)  // [n, n]: W_i · W_j
        let norms = metrics.featureNorms
        let represented = (0..<n).filter { norms[$0] > SuperpositionMetrics.representationThreshold }
        func cosine(_ i: Int, _ j: Int) -> Float { gram.scalars[i * n + j] / (norms[i] * norms[j]) }

        let components = Self.components(of: represented) { abs(cosine($0, $1)) > tolerance.coupling }
        groups = components.map { members in
            let kind = Self.shape(of: members, cosine: cosine, tolerance: tolerance)
                .flatMap { kind -> Kind? in
                    let ideal = kind.idealDimensionality!
                    let fits = members.allSatisfy { abs(metrics.featureDimensionality[$0] - ideal) <= tolerance.dimensionality }
                    return fits ? kind : nil
                } ?? .other
            return Group(kind: kind, features: members,
                         dimensions: members.map { metrics.featureDimensionality[$0] }.reduce(0, +))
        }
        .sorted { a, b in
            let (ka, kb) = (Kind.allCases.firstIndex(of: a.kind)!, Kind.allCases.firstIndex(of: b.kind)!)
            return ka != kb ? ka < kb : a.features[0] < b.features[0]
        }
        var counts = Counts()
        for group in groups { counts[group.kind] += 1 }
        self.counts = counts
        let representedSet = Set(represented)
        unrepresented = (0..<n).filter { !representedSet.contains($0) }
    }

    /// The geometry of one instance's weights `w: [m, n]`.
    public init(weights w: Tensor, tolerance: Tolerance = .standard) {
        self.init(weights: w, metrics: SuperpositionMetrics(weights: w), tolerance: tolerance)
    }

    /// The geometry of every instance of a model; `metrics` (one per instance) is computed when nil.
    public static func perInstance(_ model: ToyModel, metrics: [SuperpositionMetrics]? = nil,
                                   tolerance: Tolerance = .standard) -> [FeatureGeometry] {
        let metrics = metrics ?? SuperpositionMetrics.perInstance(model)
        return (0..<model.instanceCount).map {
            FeatureGeometry(weights: model.weights.slice($0), metrics: metrics[$0], tolerance: tolerance)
        }
    }

    /// Counts only, e.g. "2 antipodal pairs · 1 dedicated", or "none represented".
    public var countSummary: String {
        let parts = Kind.allCases.compactMap { kind -> String? in
            let count = counts[kind]
            return count == 0 ? nil : "\(count) \(kind.name(count: count))"
        }
        return parts.isEmpty ? "none represented" : parts.joined(separator: " · ")
    }

    /// Counts with members, e.g. "2 antipodal pairs {0 2} {1 3} · 1 dedicated {4}".
    public var summary: String {
        let parts = Kind.allCases.compactMap { kind -> String? in
            let members = groups.filter { $0.kind == kind }
            guard !members.isEmpty else { return nil }
            let lists = members.map { "{" + $0.features.map(String.init).joined(separator: " ") + "}" }
            return "\(members.count) \(kind.name(count: members.count)) " + lists.joined(separator: " ")
        }
        return parts.isEmpty ? "none represented" : parts.joined(separator: " · ")
    }

    /// The kind of each feature's group, `nil` for unrepresented features; `[n]`.
    public var kindOfFeature: [Kind?] {
        let count = (groups.flatMap(\.features) + unrepresented).max().map { $0 + 1 } ?? 0
        var kinds = [Kind?](repeating: nil, count: count)
        for group in groups {
            for feature in group.features { kinds[feature] = group.kind }
        }
        return kinds
    }

    // MARK: - Classification

    /// Connected components of `related` over `nodes`, each ascending, ordered by first node.
    static func components(of nodes: [Int], related: (Int, Int) -> Bool) -> [[Int]] {
        var unvisited = Set(nodes)
        var result: [[Int]] = []
        for start in nodes where unvisited.contains(start) {
            unvisited.remove(start)
            var component = [start]
            var frontier = [start]
            while let node = frontier.popLast() {
                for other in unvisited where related(node, other) {
                    unvisited.remove(other)
                    component.append(other)
                    frontier.append(other)
                }
            }
            result.append(component.sorted())
        }
        return result
    }

    /// The regular shape whose pairwise angles `members` have, ignoring D_i; nil if none.
    static func shape(of members: [Int], cosine: (Int, Int) -> Float, tolerance: Tolerance) -> Kind? {
        func angle(_ i: Int, _ j: Int) -> Double { acos(Double(min(1, max(-1, cosine(i, j))))) * 180 / .pi }
        func near(_ degrees: Double, _ target: Double) -> Bool { abs(degrees - target) <= tolerance.angleDegrees }
        let pairs = members.indices.flatMap { a in members.indices.filter { $0 > a }.map { (members[a], members[$0]) } }
        switch members.count {
        case 1:
            return .dedicated
        case 2:
            return pairs.allSatisfy { near(angle($0.0, $0.1), 180) } ? .antipodalPair : nil
        case 3:
            return pairs.allSatisfy { near(angle($0.0, $0.1), 120) } ? .triangle : nil
        case 4:
            let tetrahedral = acos(-1.0 / 3) * 180 / .pi
            return pairs.allSatisfy { near(angle($0.0, $0.1), tetrahedral) } ? .tetrahedron : nil
        case 5:
            // Two neighbours at 72° and two at 144° for every vertex is exactly the regular
            // pentagon's Gram matrix (the 72° relation is then a 5-cycle), which forces a plane.
            let regular = members.allSatisfy { i in
                let angles = members.filter { $0 != i }.map { angle(i, $0) }
                return angles.filter { near($0, 72) }.count == 2 && angles.filter { near($0, 144) }.count == 2
            }
            return regular ? .pentagon : nil
        default:
            return nil
        }
    }
}
