// Resource limits: sizes a model file may declare before modelc refuses it (issue 6).
//
// Before: a resolved ModelIR (Keras or PyTorch), whose shapes come from what a stranger's
//         document printed or implied.
// After:  either the same IR, unchanged, or a ModelError at the offending layer's line; every
//         activation and the parameter total fit in memory that a generated binary allocates
//         (per-image activations x batch size, parameters x optimizer slots), and no later
//         product of shapes or counts can overflow Int.
//
// The table scanner applies the per-layer activation limit to every printed output shape while
// reading the table (TableScanner.finish), so inference never searches absurd shapes; this
// pass re-checks the shapes inference produced (unprinted or 'multiple' shapes, PyTorch reprs)
// and the parameter total.

import Foundation

public enum ResourceLimits {
    /// Largest activation (one layer's output, or the input) per image, in elements: 2^26
    /// (64 Mi floats, 256 MiB per image before the batch dimension).
    public static let maxActivationElements = 1 << 26
    /// Largest number of parameters in a model (weights plus BatchNorm statistics): 2^28
    /// (256 Mi floats, 1 GiB; optimizer state multiplies it by up to 3).
    public static let maxParameters = 1 << 28
    /// Most output values that get default class names ("0", "1", ...); a model with more
    /// outputs per image is not a classifier head, and gets no class names.
    public static let maxClassNames = 4096
    /// Largest single dimension of any shape (a flattened activation may use all of it).
    public static let maxDimension = maxActivationElements

    /// Product of `dims`, or nil if a factor is not positive or the product exceeds `limit`
    /// (computed without overflow).
    public static func elements(_ dims: [Int], limit: Int = maxActivationElements) -> Int? {
        var p = 1
        for d in dims {
            guard d >= 1 else { return nil }
            let (m, o) = p.multipliedReportingOverflow(by: d)
            guard !o, m <= limit else { return nil }
            p = m
        }
        return p
    }

    static func shapeText(_ s: [Int]) -> String { "(None" + s.map { ", \($0)" }.joined() + ")" }

    /// Exact product as text even when it overflows Int (for messages).
    static func productText(_ dims: [Int]) -> String {
        var p = 1.0
        for d in dims { p *= Double(d) }
        if p < 9e15 { return formatCount(Int(p)) }
        return String(format: "%.3g", p)
    }

    static func check(_ ir: ModelIR, document doc: Document) throws {
        func tooLarge(_ line: Int?, _ what: String, _ shape: [Int]) -> ModelError {
            doc.error(line, "\(what) \(shapeText(shape)) has \(productText(shape)) elements per image; "
                + "modelc accepts at most \(formatCount(maxActivationElements)) (2^26) per layer")
        }
        if elements(ir.inputShape) == nil {
            throw tooLarge(ir.layers.first?.line, "input shape", ir.inputShape)
        }
        var total = 0
        for (i, L) in ir.layers.enumerated() {
            if elements(L.outputShape) == nil {
                throw tooLarge(L.line, "layer '\(L.name)': output", L.outputShape)
            }
            if case .multiHeadAttention(let a) = L.op {
                // what it keeps per image: the probabilities in rows padded to tp (with dropout also
                // the dropped ones and the mask), the projections q, k, v and the mix o, and their
                // gradients; the scratch of one head's scores and its k or v transposed
                let ps = ir.layers.producers(of: i), source = ps.count > 1 ? ir.layers[ps[1]].outputShape : []
                let (tq, tv) = (L.inputShape.first ?? 0, source.first ?? 0), tp = AttentionAttrs.paddedSources(tv)
                for kept in [[a.heads, tq, tp, a.dropout > 0 ? 3 : 1], [tq, a.heads, a.keyDim], [tv, a.heads, a.keyDim],
                             [tv, a.heads, a.valueDim], [tq, a.heads, a.valueDim], [max(a.keyDim, a.valueDim), tp]]
                where elements(kept) == nil {
                    throw doc.error(L.line, "layer '\(L.name)': attention of \(a.heads) heads (key_dim \(a.keyDim), value_dim \(a.valueDim)) over \(tq) x \(tv) steps keeps \(productText(kept)) values per image in one of its buffers; "
                        + "modelc accepts at most \(formatCount(maxActivationElements)) (2^26) per layer")
                }
            }
            for t in L.paramTensors {
                guard let n = elements(t.shape, limit: maxParameters) else {
                    throw doc.error(L.line, "layer '\(L.name)': parameter tensor \(t.shape) has \(productText(t.shape)) elements; "
                        + "modelc accepts at most \(formatCount(maxParameters)) (2^28) parameters per model")
                }
                total += n
                guard total <= maxParameters else {
                    throw doc.error(L.line, "the model has more than \(formatCount(maxParameters)) (2^28) parameters "
                        + "by layer '\(L.name)'; modelc accepts at most that many")
                }
            }
        }
    }
}
