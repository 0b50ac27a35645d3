// Lambda as declared: standardize y = (x - mean) / std, affine y = x * scale + offset, or
// identity (aliases its input).
//   forward [N, S] -> [N, S];  backward dx = dy / std  |  dy * scale

import ModelcCore

struct LambdaEmitter: OpEmitter {
    let function: LambdaFunction
    var aliasesInput: Bool { function == .identity }

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        if function == .identity { return ([], [], []) }
        let fwd: String, bwd: String, what: String
        switch function {
        case .standardize(let mean, let std):
            fwd = "(v - \(floatLiteral(mean))) / \(floatLiteral(std))"
            bwd = "g / \(floatLiteral(std))"
            what = "y = (x - \(mean)) / \(std)"
        case .affine(let s, let o):
            fwd = "v * \(floatLiteral(s)) + \(floatLiteral(o))"
            bwd = "g * \(floatLiteral(s))"
            what = "y = x * \(s) + \(o)"
        case .identity:
            fwd = "v"; bwd = "g"; what = "y = x"
        }
        let f = "\(c.prefix)Forward", b = "\(c.prefix)Backward"
        m.chunkFunction(f, comment: "\(c.header): \(what)") { w in
            w.line("let x = \(c.x) + lo * \(c.inSize), y = \(c.y) + lo * \(c.outSize)")
            w.line("for i in 0..<(hi - lo) * \(c.outSize) { let v = x[i]; y[i] = \(fwd) }")
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction(b, comment: "\(c.header) backward") { w in
                w.line("let dy = \(c.gy) + lo * \(c.outSize), dx = \(gx) + lo * \(c.inSize)")
                w.line("for i in 0..<(hi - lo) * \(c.outSize) { let g = dy[i]; dx[i] = \(bwd) }")
            }
            back = [.chunk("\(b)(lo, hi, t)")]
        }
        return ([.chunk("\(f)(lo, hi, t)")], [.chunk("\(f)(lo, hi, t)")], back)
    }
}
