// TorchInfoInputs: a table row whose input shape is printed (torchinfo's Input Shape column)
// fixes what happened between it and the row above: the same hidden calls a torchsummary table
// implies (a max pool, a flatten, or both), now read from the printed shapes instead of guessed
// from the next layer's count. Any other difference is something a chain cannot express.

extension PyTorchBuilder {
    /// Appends the hidden calls that take the chain to `r`'s printed input; throws when no pool
    /// and flatten do.
    static func reachPrintedInput(_ r: TSRow, _ c: inout Chain, doc: Document) throws {
        guard let want = r.input, want != c.shape else { return }
        let from = c.shape
        if from.count == 3, let pool = hiddenPool(from, to: want) {
            try append(PTStep(name: "max_pool2d", op: pool, line: r.line, functional: true), kind: "MaxPool2d", to: &c, doc: doc,
                       notes: ["hidden max_pool2d before \(r.label): the table prints its input as \(chw(want))"])
        }
        if c.shape.count == 3, want == [c.shape.reduce(1, *)] {
            c.flatten(line: r.line, note: "hidden flatten before \(r.label): the table prints its input as \(chw(want)) (NCHW order)")
        }
        guard c.shape == want else {
            throw doc.error(r.line, "\(r.label): the table prints its input as \(chw(want)), but the rows above give \(chw(from)); "
                + "an operation the table does not show (a residual add, a concatenation, a reshape) is not supported")
        }
    }

    /// The max pool from the image `from` to `want`'s spatial size, or to the size whose flatten
    /// is `want` (a square one); nil when none fits.
    static func hiddenPool(_ from: [Int], to want: [Int]) -> PTOp? {
        var target: (Int, Int)?
        if want.count == 3, want[2] == from[2], want[0] <= from[0], want[1] <= from[1], want != from {
            target = (want[0], want[1])
        } else if want.count == 1, want[0] != from.reduce(1, *), want[0] % from[2] == 0 {
            let area = want[0] / from[2]
            let side = Int(Double(area).squareRoot().rounded())
            if side * side == area, side < from[0] { target = (side, side) }
        }
        guard let (oh, ow) = target, let (kh, sh) = solvePool(from[0], oh), let (kw, sw) = solvePool(from[1], ow) else { return nil }
        return .maxPool(kh: kh, kw: kw, sh: sh, sw: sw, pad: nil)
    }
}
