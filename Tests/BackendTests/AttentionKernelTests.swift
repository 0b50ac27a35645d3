// The attention kernels (Sources/ModelcRuntime/Kernels/Attention.swift) against a plain Double
// reference of Keras's MultiHeadAttention, their backward against central differences of the
// Float forward (with dropout on, its mask fixed by the seed), the causal mask, and the buffer
// sizes the emitter declares against the runtime's.

import XCTest
import ModelcCore
@testable import ModelcBackend
import ModelcRuntime

final class AttentionKernelTests: XCTestCase {
    func testBufferSizesAgree() {
        // key size below and above the value size; source lengths under, at and over 16 floats
        for (bias, dropout, dx, k, v, tq, tv) in [(true, Float(0), true, 3, 2, 3, 4), (false, 0.25, false, 3, 2, 3, 16),
                                                 (true, 0.5, true, 3, 2, 20, 17), (true, 0, true, 2, 5, 40, 33)] {
            let a = AttentionAttrs(heads: 2, keyDim: k, valueDim: v, useBias: bias, outputDim: 4, keyFeatures: 3, valueFeatures: 2,
                                   dropout: dropout)
            let rg = AttentionGeometry(queryLength: tq, sourceLength: tv, queryFeatures: 5, keyFeatures: 3, valueFeatures: 2,
                                       heads: 2, keySize: k, valueSize: v, outputs: 4, dropout: dropout)
            let s = AttentionEmitter.sizes(a, queries: tq, sources: tv, queryFeatures: 5, inputGradient: dx)
            XCTAssertEqual(s.state, rg.stateFloats)
            XCTAssertEqual(s.work, rg.workFloats)
            XCTAssertEqual(s.transposed, rg.transposedFloats(inputGradient: dx))
            XCTAssertEqual(a.paramCount(queryFeatures: 5), Self.offsets(a, dq: 5).total)
        }
    }

    func testForwardMatchesTheDefinition() {
        // causal with fewer and with more query steps than source steps too (Keras: j <= i)
        for (tq, tv, causal) in [(4, 4, false), (4, 4, true), (3, 5, true), (5, 3, true), (2, 6, false)] {
            let g = AttentionGeometry(queryLength: tq, sourceLength: tv, queryFeatures: 5, keyFeatures: 3, valueFeatures: 2,
                                      heads: 2, keySize: 3, valueSize: 2, outputs: 4, causal: causal)
            var r = Run(g, images: 2, bias: true)
            let y = r.forward(seed: nil)
            let want = r.reference()
            XCTAssertEqual(y.count, want.count)
            for i in y.indices { XCTAssertEqual(Double(y[i]), want[i], accuracy: 1e-5 * (1 + abs(want[i])), "causal \(causal) y[\(i)]") }
        }
    }

    func testCausalStepsIgnoreLaterSources() {
        let g = AttentionGeometry(queryLength: 4, sourceLength: 4, queryFeatures: 3, keyFeatures: 3, valueFeatures: 3,
                                  heads: 1, keySize: 2, valueSize: 2, outputs: 3, causal: true)
        var r = Run(g, images: 1, bias: true)
        let before = r.forward(seed: nil)
        for c in 0..<3 { r.value[3 * 3 + c] += 1; r.key[3 * 3 + c] -= 1 }   // the last source step
        let after = r.forward(seed: nil)
        XCTAssertEqual(Array(before[0..<9]), Array(after[0..<9]), "query steps 0-2 do not see source step 3")
        XCTAssertNotEqual(Array(before[9..<12]), Array(after[9..<12]))
    }

    func testBackwardMatchesFiniteDifferences() {
        for (bias, dropout, causal) in [(true, Float(0), false), (false, 0.3, false), (true, 0.3, true)] {
            let g = AttentionGeometry(queryLength: 3, sourceLength: causal ? 3 : 4, queryFeatures: 5, keyFeatures: 3, valueFeatures: 2,
                                      heads: 2, keySize: 3, valueSize: 2, outputs: 4, dropout: dropout, causal: causal)
            checkBackward(g, bias: bias)
        }
    }

    /// Sizes as published models have them: key and value sizes of 16 and 24 (whole 16-float
    /// column blocks, and one with 8 single columns after it), source lengths that the rows of p
    /// pad (1 -> 16, 17 and 28 -> 32) or fill (16, 32), causal with more query than source steps.
    func testModelSizedHeadsAndPaddedRows() {
        // and one source step (p = 1), and exactly 16 (no padding)
        for (tq, tv, causal, dropout) in [(28, 28, true, Float(0)), (5, 32, false, 0), (33, 17, true, 0.2),
                                          (3, 1, false, 0), (4, 16, true, 0)] {
            let g = AttentionGeometry(queryLength: tq, sourceLength: tv, queryFeatures: 6, keyFeatures: 5, valueFeatures: 7,
                                      heads: 2, keySize: 16, valueSize: 24, outputs: 6, dropout: dropout, causal: causal)
            var r = Run(g, images: 2, bias: true)
            let y = r.forward(seed: nil), want = r.reference()
            for i in y.indices {
                XCTAssertEqual(Double(y[i]), want[i], accuracy: 1e-5 * (1 + abs(want[i])), "\(tq)x\(tv) causal \(causal) y[\(i)]")
            }
            checkBackward(g, bias: true)
        }
    }

    /// The backward of sum(y * up) against central differences of the forward, on a sample of
    /// every parameter and input; with dropout, its mask fixed by the seed.
    func checkBackward(_ g: AttentionGeometry, bias: Bool, file: StaticString = #filePath, line: UInt = #line) {
        var r = Run(g, images: 2, bias: bias)
        let seed: UInt64? = g.dropout > 0 ? 77 : nil
        let up = (0..<(2 * g.queryLength * g.outputs)).map { Float(sin(Double($0) * 1.3)) }
        _ = r.forward(seed: seed)
        let (grads, dq, dk, dv) = r.backward(up, dropout: seed != nil)
        let label = "bias \(bias) dropout \(g.dropout) causal \(g.causal) \(g.queryLength)x\(g.sourceLength)"
        // every element written (the buffers start as NaN)
        for (name, v) in [("parameters", grads), ("query", dq), ("key", dk), ("value", dv)] {
            XCTAssertTrue(v.allSatisfy(\.isFinite), "\(label) \(name): an element not written", file: file, line: line)
        }
        XCTAssertEqual(r.backward(up, dropout: seed != nil, inputGradient: false).parameters, grads,
                       "\(label): no input gradients, the same weight gradients", file: file, line: line)
        func loss(_ r: inout Run) -> Double { zip(r.forward(seed: seed), up).reduce(0) { $0 + Double($1.0 * $1.1) } }
        func check(_ name: String, _ analytic: [Float], _ path: WritableKeyPath<Run, [Float]>) {
            for i in stride(from: 0, to: analytic.count, by: max(1, analytic.count / 17)) {
                let h: Float = 1e-2, keep = r[keyPath: path][i]
                r[keyPath: path][i] = keep + h; let plus = loss(&r)
                r[keyPath: path][i] = keep - h; let minus = loss(&r)
                r[keyPath: path][i] = keep
                let numeric = (plus - minus) / Double(2 * h)
                XCTAssertEqual(Double(analytic[i]), numeric, accuracy: 2e-3 * (1 + abs(numeric)), "\(label) \(name)[\(i)]",
                               file: file, line: line)
            }
        }
        check("parameters", grads, \.parameters)
        check("query", dq, \.query)
        check("key", dk, \.key)
        check("value", dv, \.value)
    }

    /// The key and value passed as one tensor (a self-attention call with two inputs): the
    /// shared buffer gets both projections' gradients.
    func testKeyAndValueInOneBufferGetBothShares() {
        let g = AttentionGeometry(queryLength: 3, sourceLength: 3, queryFeatures: 4, keyFeatures: 4, valueFeatures: 4,
                                  heads: 2, keySize: 2, valueSize: 2, outputs: 4)
        var r = Run(g, images: 1, bias: true)
        r.key = r.value
        let up = (0..<12).map { Float(cos(Double($0))) }
        _ = r.forward(seed: nil)
        let (_, _, dk, dv) = r.backward(up, dropout: false)
        _ = r.forward(seed: nil)
        let both = r.backward(up, dropout: false, sameKeyAndValue: true).dv
        for i in both.indices { XCTAssertEqual(both[i], dk[i] + dv[i], accuracy: 1e-5) }
    }

    // MARK: - A layer run on its own

    static func offsets(_ a: AttentionAttrs, dq: Int) -> (offsets: AttentionOffsets, total: Int) {
        var at = 0, o: [String: Int] = [:]
        for t in a.tensors(queryFeatures: dq) { o["\(t.scope!)/\(t.role.rawValue)"] = at; at += t.count }
        return (AttentionOffsets(query: o["query/kernel"]!, queryBias: o["query/bias"], key: o["key/kernel"]!, keyBias: o["key/bias"],
                                 value: o["value/kernel"]!, valueBias: o["value/bias"], output: o["attention_output/kernel"]!,
                                 outputBias: o["attention_output/bias"]), at)
    }

    struct Run {
        let g: AttentionGeometry, images: Int, w: AttentionOffsets
        var parameters: [Float], query: [Float], key: [Float], value: [Float]
        var buffer: [Float], transposed: [Float]

        init(_ g: AttentionGeometry, images: Int, bias: Bool) {
            let a = AttentionAttrs(heads: g.heads, keyDim: g.keySize, valueDim: g.valueSize, useBias: bias, outputDim: g.outputs,
                                   keyFeatures: g.keyFeatures, valueFeatures: g.valueFeatures)
            let (w, count) = AttentionKernelTests.offsets(a, dq: g.queryFeatures)
            self.g = g; self.images = images; self.w = w
            func values(_ n: Int, _ s: Double) -> [Float] { (0..<n).map { Float(sin(Double($0) * s + s) * 0.8) } }
            parameters = values(count, 0.7)
            query = values(images * g.queryLength * g.queryFeatures, 1.1)
            key = values(images * g.sourceLength * g.keyFeatures, 1.9)
            value = values(images * g.sourceLength * g.valueFeatures, 2.3)
            buffer = [Float](repeating: .nan, count: images * (g.stateFloats + g.workFloats))
            transposed = [Float](repeating: 0, count: g.transposedFloats(inputGradient: true))
        }

        mutating func forward(seed: UInt64?) -> [Float] {
            var y = [Float](repeating: 0, count: images * g.queryLength * g.outputs)
            let (g, w, n) = (g, w, images)
            buffer.withUnsafeMutableBufferPointer { b in transposed.withUnsafeMutableBufferPointer { t in
                let layer = AttentionLayer(g, w, buffer: b.baseAddress!, maxBatch: n, transposed: t.baseAddress!, inputGradient: true)
                parameters.withUnsafeMutableBufferPointer { p in query.withUnsafeMutableBufferPointer { q in
                    key.withUnsafeMutableBufferPointer { k in value.withUnsafeMutableBufferPointer { v in y.withUnsafeMutableBufferPointer { yb in
                        // two chunks, as two threads would run them
                        layer.forward(p.baseAddress!, query: q.baseAddress!, key: k.baseAddress!, value: v.baseAddress!, y: yb.baseAddress!, 0, 1, dropoutSeed: seed)
                        layer.forward(p.baseAddress!, query: q.baseAddress!, key: k.baseAddress!, value: v.baseAddress!, y: yb.baseAddress!, 1, n, dropoutSeed: seed)
                    } } }
                } }
            } }
            return y
        }

        /// The gradients of sum(y * up): the parameters' (one chunk of all images), then the inputs'.
        mutating func backward(_ up: [Float], dropout: Bool, sameKeyAndValue: Bool = false, inputGradient: Bool = true) -> (parameters: [Float], dq: [Float], dk: [Float], dv: [Float]) {
            var grads = [Float](repeating: .nan, count: parameters.count)
            var dq = [Float](repeating: .nan, count: query.count), dk = [Float](repeating: .nan, count: key.count)
            var dv = [Float](repeating: .nan, count: value.count), dy = up
            let (g, w, n) = (g, w, images)
            buffer.withUnsafeMutableBufferPointer { b in transposed.withUnsafeMutableBufferPointer { t in
                let layer = AttentionLayer(g, w, buffer: b.baseAddress!, maxBatch: n, transposed: t.baseAddress!, inputGradient: inputGradient)
                parameters.withUnsafeMutableBufferPointer { p in layer.transpose(p.baseAddress!) }
                query.withUnsafeMutableBufferPointer { q in key.withUnsafeMutableBufferPointer { k in value.withUnsafeMutableBufferPointer { v in
                    grads.withUnsafeMutableBufferPointer { gp in dy.withUnsafeMutableBufferPointer { d in
                        dq.withUnsafeMutableBufferPointer { dqb in dk.withUnsafeMutableBufferPointer { dkb in dv.withUnsafeMutableBufferPointer { dvb in
                            layer.backward(gp.baseAddress!, query: q.baseAddress!, key: sameKeyAndValue ? v.baseAddress! : k.baseAddress!,
                                           value: v.baseAddress!, dy: d.baseAddress!, dQuery: dqb.baseAddress!,
                                           dKey: sameKeyAndValue ? dvb.baseAddress! : dkb.baseAddress!, dValue: dvb.baseAddress!, 0, n, dropout: dropout)
                        } } }
                    } }
                } } }
            } }
            return (grads, dq, dk, dv)
        }

        /// y in Double straight from the definition (no dropout).
        func reference() -> [Double] {
            let (Tq, Tv, H, K, V, O) = (g.queryLength, g.sourceLength, g.heads, g.keySize, g.valueSize, g.outputs)
            let P = parameters.map(Double.init)
            func project(_ x: [Float], _ image: Int, rows: Int, features: Int, kernel: Int, bias: Int?, n: Int) -> [[Double]] {
                var out = [[Double]](repeating: [Double](repeating: 0, count: n), count: rows)
                for r in 0..<rows {
                    for c in 0..<n {
                        var s: Double = bias.map { P[$0 + c] } ?? 0
                        for f in 0..<features { s += Double(x[(image * rows + r) * features + f]) * P[kernel + f * n + c] }
                        out[r][c] = s
                    }
                }
                return out
            }
            var y: [Double] = []
            for image in 0..<images {
                let q = project(query, image, rows: Tq, features: g.queryFeatures, kernel: w.query, bias: w.queryBias, n: H * K)
                let k = project(key, image, rows: Tv, features: g.keyFeatures, kernel: w.key, bias: w.keyBias, n: H * K)
                let v = project(value, image, rows: Tv, features: g.valueFeatures, kernel: w.value, bias: w.valueBias, n: H * V)
                for i in 0..<Tq {
                    var o = [Double](repeating: 0, count: H * V)
                    for h in 0..<H {
                        let seen = g.causal ? min(i + 1, Tv) : Tv
                        var s = [Double](repeating: 0, count: seen)
                        for j in 0..<seen { for c in 0..<K { s[j] += q[i][h * K + c] * k[j][h * K + c] / Double(K).squareRoot() } }
                        let top = s.max()!, e = s.map { exp($0 - top) }, total = e.reduce(0, +)
                        for j in 0..<seen { for c in 0..<V { o[h * V + c] += e[j] / total * v[j][h * V + c] } }
                    }
                    for c in 0..<O {
                        var s: Double = w.outputBias.map { P[$0 + c] } ?? 0
                        for m in 0..<(H * V) { s += o[m] * P[w.output + m * O + c] }
                        y.append(s)
                    }
                }
            }
            return y
        }
    }
}
