// Constant folding of the small shape computations exporters leave in ONNX graphs: torch's
// ZeroPad2d at opset 11+ computes its pads with ConstantOfShape, Concat, Reshape, Slice,
// Transpose and Cast nodes whose inputs are all constants. Such a node is evaluated once, its
// output becomes a constant (as an initializer would be), and the chain never sees it.
//
// Weights are folded too: ConstantOfShape fills a tensor of up to `maxFilledElements` values
// (kept as one value until converted), an Identity of a constant is that constant, and old
// exporters' weight rewrites (torch 0.3 to 2.x reorder an LSTM's gate blocks with Slice and
// Concat of its 2-D weights) are evaluated like shapes.
//
// Before: the graph's initializers and Constant values by name.
// After:  the same plus the outputs of every foldable node whose inputs are all constants, and
//         the indices of the nodes folded away. A folded integer tensor (a shape, pads, indices)
//         holds at most `maxFoldedElements` values, a float one at most `maxFoldedFloats`, and
//         one graph's folded values at most `maxFoldedTotal`; anything larger is refused.

import ModelcData

enum ONNXConstantFolding {
    static let foldable: Set<String> = ["Constant", "ConstantOfShape", "Concat", "Reshape", "Slice", "Transpose", "Cast", "Unsqueeze", "Squeeze", "Identity", "Gather"]
    static let maxFoldedElements = 1 << 16
    static let maxFoldedFloats = 1 << 22
    static let maxFoldedTotal = 1 << 24

    /// The most values a folded tensor of this kind may hold.
    static func limit(isFloat: Bool) -> Int { isFloat ? maxFoldedFloats : maxFoldedElements }

    /// A folded value: dims and values (integers held exactly as Double up to 2^53).
    struct Value {
        var dims: [Int]
        var values: [Double]
        var isFloat: Bool
    }

    static func fold(_ g: ONNXGraph, constants: inout [String: ONNXTensor], file: String) throws -> Set<Int> {
        var folded = Set<Int>()
        var total = 0
        for (i, n) in g.nodes.enumerated() where foldable.contains(n.opType) {
            func err(_ m: String) -> DataError { DataError(file: file, offset: n.offset, message: "node '\(n.name)' (\(n.opType)): \(m)") }
            func charge(_ values: Int) throws {
                total += values
                guard total <= maxFoldedTotal else { throw err("expected at most \(maxFoldedTotal) folded values in one graph, found more") }
            }
            if n.opType == "Constant" {
                guard let out = n.outputs.first, let t = n.attributes["value"]?.t else { throw err("expected a tensor 'value' attribute, found none") }
                constants[out] = t
                folded.insert(i)
                continue
            }
            let inputs = n.inputs.map { $0.isEmpty ? nil : constants[$0] }
            guard n.inputs.allSatisfy({ $0.isEmpty || constants[$0] != nil }), let out = n.outputs.first else { continue }
            if n.opType == "ConstantOfShape" {
                constants[out] = try filled(n, shape: inputs.first ?? nil, name: out, file: file, err: err)
                folded.insert(i)
                continue
            }
            if n.opType == "Identity" {
                // The same tensor under a second name (tied or renamed weights): nothing is copied.
                guard let t = inputs.first ?? nil else { throw err("expected an input, found none") }
                constants[out] = t
                folded.insert(i)
                continue
            }
            // Every value read and written counts, before any is materialized.
            try charge(inputs.reduce(0) { try $0 + ($1?.elementCount() ?? 0) })
            let args = try inputs.map { try $0.map(value) }
            let t = try tensor(evaluate(n, args, err: err), name: out, node: n, file: file, err: err)
            try charge(t.floatData.count + t.intData.count)
            constants[out] = t
            folded.insert(i)
        }
        return folded
    }

    /// Largest tensor ConstantOfShape may fill (weights: 2^24 values, 64 MB as floats).
    static let maxFilledElements = 1 << 24

    /// ConstantOfShape: a tensor of the given dims, every value the `value` attribute's (0.0 by
    /// default), held as that one value until converted (ONNXTensor.splat).
    static func filled(_ n: ONNXNode, shape: ONNXTensor?, name: String, file: String, err: (String) -> DataError) throws -> ONNXTensor {
        guard let shape else { throw err("expected input 0 (the shape), found none") }
        let dims = try value(shape).values.map { $0.isFinite ? Int(max(min($0, 1e15), -1e15)) : -1 }
        guard dims.allSatisfy({ $0 >= 0 }), checkedProduct(dims, limit: maxFilledElements) != nil else {
            throw err("expected a shape of at most \(maxFilledElements) elements, found \(dims)")
        }
        let fill = try n.attributes["value"]?.t.map(value) ?? Value(dims: [1], values: [0], isFloat: true)
        var t = ONNXTensor()
        t.name = name; t.dims = dims; t.file = file; t.offset = n.offset
        t.dataType = fill.isFloat ? 1 : 7
        let v = fill.values.first ?? 0
        t.splat = fill.isFloat ? v : (v.isFinite ? max(min(v, 1e15), -1e15).rounded(.towardZero) : 0)
        return t
    }

    /// A folded value as a tensor (FLOAT or INT64), checked against its kind's `limit`.
    static func tensor(_ v: Value, name: String, node n: ONNXNode, file: String, err: (String) -> DataError) throws -> ONNXTensor {
        let most = limit(isFloat: v.isFloat)
        guard v.values.count <= most, v.values.count == (checkedProduct(v.dims, limit: most) ?? -1) else {
            throw err("expected a small constant (at most \(most) values), found dims \(v.dims)")
        }
        var t = ONNXTensor()
        t.name = name; t.dims = v.dims; t.file = file; t.offset = n.offset
        if v.isFloat { t.dataType = 1; t.floatData = v.values.map { Float($0) } } else { t.dataType = 7; t.intData = v.values.map { $0.isFinite ? Int64(max(min($0, 9e18), -9e18)) : 0 } }   // in range (a Cast of a huge float)
        return t
    }

    static func value(_ t: ONNXTensor) throws -> Value {
        let n = try t.elementCount(), isInt = t.dataType == 6 || t.dataType == 7
        guard n <= limit(isFloat: !isInt) else {
            throw DataError(file: t.file, offset: t.offset, message: "tensor '\(t.name)': expected a small constant to fold (at most \(limit(isFloat: !isInt)) values), found dims \(t.dims)")
        }
        if isInt { return Value(dims: t.dims, values: try t.ints().map(Double.init), isFloat: false) }
        return Value(dims: t.dims, values: try t.floats().map(Double.init), isFloat: true)
    }

    /// A size computation's operand: at most `maxFoldedElements` values whatever its type.
    static func smallValue(_ t: ONNXTensor) throws -> Value {
        guard try t.elementCount() <= maxFoldedElements else {
            throw DataError(file: t.file, offset: t.offset, message: "tensor '\(t.name)': expected a small constant in a size computation (at most \(maxFoldedElements) values), found dims \(t.dims)")
        }
        return try value(t)
    }

    static func evaluate(_ n: ONNXNode, _ args: [Value?], err: (String) -> DataError) throws -> Value {
        func arg(_ k: Int) throws -> Value {
            guard k < args.count, let a = args[k] else { throw err("expected input \(k), found none") }
            return a
        }
        func ints(_ k: Int) throws -> [Int]? {
            guard k < args.count, let a = args[k] else { return nil }
            // Exporters write INT64_MIN / INT64_MAX for "to the end"; clamped, they slice the same.
            return a.values.map { Int(max(min($0.isNaN ? -1e15 : $0, 1e15), -1e15).rounded(.towardZero)) }
        }
        switch n.opType {
        case "ConstantOfShape":
            let dims = try ints(0) ?? []
            guard dims.allSatisfy({ $0 >= 0 }), let count = checkedProduct(dims, limit: maxFoldedElements) else { throw err("expected a small shape, found \(dims)") }
            let fill = try n.attributes["value"]?.t.map(value) ?? Value(dims: [1], values: [0], isFloat: true)
            return Value(dims: dims, values: Array(repeating: fill.values.first ?? 0, count: count), isFloat: fill.isFloat)
        case "Concat":
            return try concat(try (0..<args.count).map(arg), axis: n.attributes["axis"]?.i ?? 0, err: err)
        case "Reshape", "Unsqueeze", "Squeeze":
            let a = try arg(0)
            let dims = try reshaped(n, a.dims, target: ints(1), err: err)
            return Value(dims: dims, values: a.values, isFloat: a.isFloat)
        case "Transpose":
            let a = try arg(0)
            let perm = n.attributes["perm"]?.ints ?? Array((0..<a.dims.count).reversed())
            guard perm.sorted() == Array(0..<a.dims.count) else { throw err("perm \(perm) does not fit dims \(a.dims)") }
            return gather(a, dims: perm.map { a.dims[$0] }, axes: perm.map { (axis: $0, start: 0, step: 1) })
        case "Gather":
            // A 1-D constant (a shape) indexed by constant positions along axis 0.
            let a = try arg(0), idx = try ints(1) ?? []
            guard a.dims.count == 1, (n.attributes["axis"]?.i ?? 0) == 0, let d = a.dims.first else { throw err("only a 1-D constant is gathered from (axis 0), found dims \(a.dims)") }
            guard idx.allSatisfy({ $0 >= -d && $0 < d }) else { throw err("indices \(idx) outside 0..<\(d)") }
            let outDims = try arg(1).dims
            return Value(dims: outDims, values: idx.map { a.values[$0 < 0 ? $0 + d : $0] }, isFloat: a.isFloat)
        case "Mul":
            // Sizes multiplied (a Reshape target merging two axes); not folded (`foldable`).
            let a = try arg(0), b = try arg(1)
            let (big, small) = a.dims.count >= b.dims.count ? (a, b) : (b, a)
            guard a.isFloat == b.isFloat else { throw err("expected operands of one element type, found \(typeName(a)) and \(typeName(b))") }
            guard small.dims == big.dims || small.values.count == 1 else {
                throw err("only same-shape or scalar products are evaluated, found dims \(a.dims) and \(b.dims)")
            }
            let values = big.values.indices.map { big.values[$0] * small.values[small.values.count == 1 ? 0 : $0] }
            return Value(dims: big.dims, values: values, isFloat: a.isFloat)
        case "Slice":
            // Slice-1 (opset 1 to 9) gives starts, ends and axes as attributes.
            let attr = { (name: String) in n.attributes[name].map(\.ints) }
            return try slice(try arg(0), starts: ints(1) ?? attr("starts") ?? [], ends: ints(2) ?? attr("ends") ?? [],
                             axes: ints(3) ?? attr("axes"), steps: ints(4), err: err)
        case "Cast":
            let a = try arg(0)
            let to = n.attributes["to"]?.i ?? 0
            switch to {
            case 1, 10, 11: return Value(dims: a.dims, values: a.values, isFloat: true)
            case 6, 7: return Value(dims: a.dims, values: a.values.map { $0.rounded(.towardZero) }, isFloat: false)
            default: throw err("Cast to type \(to) is not folded (only to FLOAT, DOUBLE, FLOAT16, INT32, INT64)")
            }
        default:
            throw err("is not a foldable operator")
        }
    }

    /// Output dims of Reshape (0 copies, -1 infers), Unsqueeze and Squeeze (axes from input 1 or the attribute).
    static func reshaped(_ n: ONNXNode, _ dims: [Int], target: [Int]?, err: (String) -> DataError) throws -> [Int] {
        let count = dims.reduce(1, *)
        switch n.opType {
        case "Reshape":
            var out = target ?? []
            for i in out.indices where out[i] == 0 { guard i < dims.count else { throw err("shape \(out) copies a missing dimension") }; out[i] = dims[i] }
            if let k = out.firstIndex(of: -1) {
                let rest = checkedProduct(out.enumerated().filter { $0.offset != k }.map(\.element), limit: maxFoldedFloats) ?? 0
                guard rest > 0, count % rest == 0 else { throw err("shape \(target ?? []) does not fit \(count) values") }
                out[k] = count / rest
            }
            guard checkedProduct(out, limit: maxFoldedFloats) == count else { throw err("shape \(target ?? []) does not fit dims \(dims)") }
            return out
        case "Unsqueeze":
            let axes = target ?? n.attributes["axes"]?.ints ?? []
            let r = dims.count + axes.count
            let norm = Set(axes.map { $0 < 0 ? $0 + r : $0 })
            guard norm.count == axes.count, norm.allSatisfy({ (0..<r).contains($0) }) else { throw err("axes \(axes) do not fit dims \(dims)") }
            var it = dims.makeIterator()
            return (0..<r).map { norm.contains($0) ? 1 : (it.next() ?? 1) }
        default:
            let axes = target ?? n.attributes["axes"]?.ints
            let norm = Set((axes ?? dims.indices.filter { dims[$0] == 1 }).map { $0 < 0 ? $0 + dims.count : $0 })
            guard norm.allSatisfy({ dims.indices.contains($0) && dims[$0] == 1 }) else { throw err("axes \(axes ?? []) do not fit dims \(dims)") }
            return dims.indices.filter { !norm.contains($0) }.map { dims[$0] }
        }
    }

    static func slice(_ a: Value, starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?, err: (String) -> DataError) throws -> Value {
        let r = a.dims.count
        let ax = (axes ?? Array(0..<starts.count)).map { $0 < 0 ? $0 + r : $0 }
        let st = steps ?? Array(repeating: 1, count: starts.count)
        guard starts.count == ends.count, ax.count == starts.count, st.count == starts.count,
              ax.allSatisfy({ (0..<r).contains($0) }), st.allSatisfy({ $0 != 0 }) else {
            throw err("starts \(starts), ends \(ends), axes \(axes ?? []), steps \(steps ?? []) do not fit dims \(a.dims)")
        }
        var first = [Int](repeating: 0, count: r), step = [Int](repeating: 1, count: r), dims = a.dims
        for (k, axis) in ax.enumerated() {
            let d = a.dims[axis], s = st[k]
            func clampIndex(_ v: Int, _ lo: Int, _ hi: Int) -> Int { min(max(v < 0 ? v + d : v, lo), hi) }
            let b = s > 0 ? clampIndex(starts[k], 0, d) : clampIndex(starts[k], 0, d - 1)
            let e = s > 0 ? clampIndex(ends[k], 0, d) : clampIndex(ends[k], -1, d - 1)
            let n = s > 0 ? max(0, (e - b + s - 1) / s) : max(0, (b - e + (-s) - 1) / (-s))
            (first[axis], step[axis], dims[axis]) = (b, n > 1 ? s : 1, n)   // (a step past the end takes one element)
        }
        return gather(a, dims: dims, axes: (0..<r).map { (axis: $0, start: first[$0], step: step[$0]) })
    }

    /// Concat along `axis` (negative counts from the end): every part of one rank, equal dims
    /// but along `axis` (a 1-D shape's pieces, or an old exporter's recurrent weights, whose gate
    /// blocks it reorders by Slice and Concat).
    static func concat(_ parts: [Value], axis: Int, err: (String) -> DataError) throws -> Value {
        guard let first = parts.first else { throw err("expected at least one input, found none") }
        let r = first.dims.count, ax = axis < 0 ? axis + r : axis
        guard parts.allSatisfy({ $0.isFloat == first.isFloat }) else {
            throw err("expected parts of one element type, found \(parts.map(typeName))")
        }
        guard (0..<r).contains(ax), parts.allSatisfy({ $0.dims.count == r }),
              parts.allSatisfy({ p in (0..<r).allSatisfy { $0 == ax || p.dims[$0] == first.dims[$0] } }) else {
            throw err("axis \(axis) does not fit dims \(parts.map(\.dims))")
        }
        let outer = first.dims[..<ax].reduce(1, *), inner = first.dims[(ax + 1)...].reduce(1, *)
        var dims = first.dims
        dims[ax] = parts.reduce(0) { $0 + $1.dims[ax] }
        var out: [Double] = []
        out.reserveCapacity(outer * dims[ax] * inner)
        for o in 0..<outer {
            for p in parts {
                let chunk = p.dims[ax] * inner
                out.append(contentsOf: p.values[(o * chunk)..<((o + 1) * chunk)])
            }
        }
        return Value(dims: dims, values: out, isFloat: first.isFloat)
    }

    static func typeName(_ v: Value) -> String { v.isFloat ? "float" : "integer" }

    /// The value of dims `dims` whose element at index i is `a`'s at position
    /// `axes[k].start + i[k] * axes[k].step` of its axis `axes[k].axis` for every k (a Transpose
    /// or a Slice); the source offset is stepped along, nothing is allocated per element.
    static func gather(_ a: Value, dims: [Int], axes: [(axis: Int, start: Int, step: Int)]) -> Value {
        let count = dims.reduce(1, *)
        var strides = [Int](repeating: 1, count: a.dims.count)
        for i in stride(from: a.dims.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * a.dims[i + 1] }
        let along = axes.map { strides[$0.axis] * $0.step }
        var offset = axes.reduce(0) { $0 + strides[$1.axis] * $1.start }
        var out: [Double] = []
        out.reserveCapacity(count)
        var idx = [Int](repeating: 0, count: dims.count)
        for _ in 0..<count {
            out.append(a.values[offset])
            var k = dims.count - 1
            while k >= 0 {
                idx[k] += 1
                offset += along[k]
                if idx[k] < dims[k] { break }
                offset -= along[k] * dims[k]
                idx[k] = 0
                k -= 1
            }
        }
        return Value(dims: dims, values: out, isFloat: a.isFloat)
    }
}
