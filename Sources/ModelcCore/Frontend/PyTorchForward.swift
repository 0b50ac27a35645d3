// PyTorchForward: the `forward:` annotation of a PyTorch repr, read into the steps of the
// model's call order.

extension PyTorchBuilder {
    /// Resolves `forward:` tokens to steps: module paths (containers expand to their leaves) and
    /// functional calls relu, relu6, leaky_relu(A), sigmoid, tanh, maxpool(K[,S[,P]]), avgpool(K[,S[,P]]), max_pool1d(K[,S[,P]]),
    /// avg_pool1d(K[,S[,P]]) (P: padding, counted by an average as F.avg_pool2d does), flatten, softmax(DIM),
    /// log_softmax(DIM) (no DIM: PyTorch's implicit one), dropout(P).
    static func forwardSteps(_ tokens: [String], root: PTModule, ops: [String: PTOp], line: Int, doc: Document) throws -> [PTStep] {
        var out: [PTStep] = []
        var calls: [String: Int] = [:]   // calls so far of each module with parameters
        for tok in tokens {
            if let m = root.find(tok), !tok.isEmpty {
                for leaf in m.leaves {
                    let op = ops[leaf.path] ?? .identity
                    var call = 0
                    if op.hasParams {
                        call = calls[leaf.path, default: 0]
                        calls[leaf.path] = call + 1
                    }
                    out.append(PTStep(name: leaf.path, op: op, line: leaf.line, call: call))
                }
                continue
            }
            var name = tok, args: [String] = []
            if let o = tok.firstIndex(of: "("), tok.hasSuffix(")") {
                name = String(tok[..<o])
                args = tok[tok.index(after: o)..<tok.index(before: tok.endIndex)].split(separator: ",").map { $0.trimmed }
            }
            func num(_ i: Int, _ def: Float?) throws -> Float {
                if i < args.count { guard let x = Float(args[i]), x.isFinite else { throw doc.error(line, "forward: '\(tok)': '\(args[i])' is not a number") }; return x }
                if let d = def { return d }
                throw doc.error(line, "forward: '\(tok)' needs an argument")
            }
            func int(_ i: Int, _ def: Int?) throws -> Int {
                let x = try num(i, def.map(Float.init))
                guard x >= 1, x <= 1024, x == x.rounded() else { throw doc.error(line, "forward: '\(tok)': expected a positive integer") }
                return Int(x)
            }
            /// Kernel, stride and padding (nil when 0) of a pooling call, as F.max_pool2d reads them.
            func pool(oneD: Bool) throws -> (k: Int, s: Int, pad: PoolPadding?) {
                guard args.count <= 3, !args.contains(where: { $0.contains("=") }) else {
                    throw doc.error(line, "forward: '\(tok)': a pooling call takes K, S and P only (dilation, ceil_mode, "
                        + "count_include_pad and divisor_override are not read here; declare the pool as a module)")
                }
                let k = try int(0, nil), s = try int(1, k)
                let x = try num(2, 0)
                guard x >= 0, x == x.rounded(), x <= Float(k / 2) else {
                    throw doc.error(line, "forward: '\(tok)': padding must be a whole number from 0 to half the window (\(k / 2))")
                }
                let p = Int(x)
                let pad = PoolPadding(h: oneD ? 0 : p, w: p, ceilMode: false, countIncludePad: name.lowercased().contains("avg")).nilIfTrivial
                return (k, s, pad)
            }
            let op: PTOp
            switch name.lowercased().replacingOccurrences(of: "f.", with: "") {
            case "relu": op = .relu
            case "relu6": op = .cappedRelu(6)
            case "leaky_relu": op = .leakyRelu(try num(0, 0.01))   // >= 0: PyTorchBuilder.append
            case "sigmoid": op = .sigmoid
            case "tanh": op = .tanh
            case let f where PyTorchSmoothActivations.call(f) != nil:
                guard args.isEmpty else { throw doc.error(line, "forward: '\(tok)': \(f) takes no arguments here (declare the module, e.g. GELU(approximate='tanh'))") }
                op = PyTorchSmoothActivations.call(f)!
            case "softmax", "log_softmax":
                // softmax(DIM) as F.softmax(x, dim=DIM); no argument: PyTorch's implicit dim
                let d = args.isEmpty ? nil : try num(0, nil)
                if let d, !(d == d.rounded() && abs(d) <= 4) { throw doc.error(line, "forward: '\(tok)': dim \(args[0]): expected an integer from -4 to 4") }
                let dim = d.map { Int($0) }
                op = name.lowercased().hasSuffix("log_softmax") ? .logSoftmax(dim: dim) : .softmax(dim: dim)
            case "flatten", "view": op = .flatten
            case "dropout":
                let p = try num(0, 0.5)
                guard p >= 0, p < 1 else { throw doc.error(line, "forward: '\(tok)': expected 0 <= p < 1") }
                op = .dropout(p, spatial: false)
            case "maxpool", "max_pool2d", "max_pool":
                let p = try pool(oneD: false)
                op = .maxPool(kh: p.k, kw: p.k, sh: p.s, sw: p.s, pad: p.pad)
            case "avgpool", "avg_pool2d", "avg_pool":
                let p = try pool(oneD: false)
                op = .avgPool(kh: p.k, kw: p.k, sh: p.s, sw: p.s, pad: p.pad)
            case "max_pool1d", "avg_pool1d":
                let p = try pool(oneD: true)
                op = .pool1d(max: name.lowercased().hasSuffix("max_pool1d"), k: p.k, s: p.s, pad: p.pad)
            default:
                let mods = root.leaves.map(\.path).prefix(12).joined(separator: ", ")
                throw doc.error(line, "forward: '\(tok)' is neither a module (\(mods)) nor a call (relu, relu6, leaky_relu(A), sigmoid, tanh, silu, gelu, mish, hardswish, hardsigmoid, selu, softplus, softsign, maxpool(K[,S[,P]]), avgpool(K[,S[,P]]), max_pool1d(K[,S[,P]]), avg_pool1d(K[,S[,P]]), flatten, dropout(P), softmax, log_softmax)")
            }
            out.append(PTStep(name: name.lowercased().replacingOccurrences(of: "f.", with: ""), op: op, line: line, functional: true))
        }
        let unused = root.leaves.filter { (ops[$0.path]?.hasParams ?? false) && calls[$0.path] == nil }
        if let u = unused.first {
            throw doc.error(line, "forward: module '\(u.path)' (\(u.type)) has parameters but is never called")
        }
        return out
    }
}
