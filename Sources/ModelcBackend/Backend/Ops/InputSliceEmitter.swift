// An Input layer of a model with several inputs (Passes/MultiInputSplit.swift): each example's
// values of this input, copied out of the flat input vector.
//   forward [N, total] -> [N, size]: y_n = x_n[offset ..< offset + size];  no backward (an input)

struct InputSliceEmitter: OpEmitter {
    let offset: Int

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let f = "\(c.prefix)Forward"
        m.chunkFunction(f, comment: "\(c.header): values \(offset)..<\(offset + c.outSize) of each example's input") { w in
            w.line("for n in lo..<hi { (\(c.y) + n * \(c.outSize)).update(from: \(c.x) + n * \(c.inSize) + \(offset), count: \(c.outSize)) }")
        }
        return ([.chunk("\(f)(lo, hi, t)")], [.chunk("\(f)(lo, hi, t)")], [])
    }
}
