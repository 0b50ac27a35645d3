// Safe emission: layer names, class names, the dataset and the source path of
// `BackendTestModels.unsafeNames` hold quotes, backslashes, `"); fatalError("`, newlines,
// comment terminators, U+2028, Unicode and Swift keywords. The model was emitted and compiled
// into this test target (Generated/SafeNames.swift); these tests show the names arrive intact
// as data, the network computes what it should, and no injected code exists or runs.

import XCTest
import ModelcCore
import ModelcBackend
import TestModelSpecs
import GeneratedTestModels
import ModelcRuntime

final class SafeEmissionTests: XCTestCase {
    func testNamesArriveExactlyAsData() throws {
        let t = try TestModels.type("safe_names")
        let info = t.info
        let n = BackendTestModels.hostileNames
        XCTAssertEqual(info.tensors.map(\.key), [
            "\(n[0])/kernel", "\(n[0])/bias", "\(n[2])/kernel", "\(n[2])/bias",
            "\(n[3])/gamma", "\(n[3])/beta", "\(n[3])/moving_mean", "\(n[3])/moving_variance",
            "\(n[5])/kernel", "\(n[7])/kernel", "\(n[7])/bias"])
        XCTAssertEqual(info.classNames, ["a\"); fatalError(\"", "b\\", "ひらがな\n"])
        XCTAssertEqual(info.nativeClassNames ?? [], ["\u{2028}", "*/", "\\(fatalError())"])
        XCTAssertEqual(info.dataset, "mnist\"); fatalError(\"")
        XCTAssertTrue(info.summary.contains(n[2]), "summary keeps the layer name verbatim")
    }

    /// Runs the compiled model (if anything injected were compiled in, it would run here and
    /// trap) and checks inference against plain loops over the same parameters.
    func testComputesTheNetwork() throws {
        try run(try TestModels.type("safe_names"))
    }

    private func run<M: CompiledModel>(_ t: M.Type) throws {
        let m = M(maxBatch: 3)
        var rng = TestRNG(5)
        TestModels.randomize(m, &rng)
        let x = rng.array(3 * 6, -1, 1)
        let y = TestModels.forward(m, x, count: 3, training: false)
        let p = TestModels.parameters(m)
        _ = TestModels.forward(m, x, count: 3, training: true, seed: 2)   // every pass runs
        TestModels.backward(m, rng.array(9, -1, 1), count: 3)
        var o = 0
        func take(_ k: Int) -> [Float] { defer { o += k }; return Array(p[o..<(o + k)]) }
        func dense(_ v: [Float], _ w: [Float], _ b: [Float]?, _ i: Int, _ u: Int) -> [Float] {
            (0..<u).map { j in (0..<i).reduce(b?[j] ?? 0) { $0 + v[$1] * w[$1 * u + j] } }
        }
        let w1 = take(30), b1 = take(5), w2 = take(20), b2 = take(4)
        let g = take(4), be = take(4), mm = take(4), mv = take(4)
        let w3 = take(12), w4 = take(9), b4 = take(3)
        var ref: [Float] = []
        for n in 0..<3 {
            var v = Array(x[(n * 6)..<(n * 6 + 6)])
            v = dense(v, w1, b1, 6, 5).map { max(tanh($0), 0) }
            v = dense(v, w2, b2, 5, 4)
            v = (0..<4).map { (v[$0] - mm[$0]) / (mv[$0] + 1e-3).squareRoot() * g[$0] + be[$0] }
            v = dense(v, w3, nil, 4, 3).map { 1 / (1 + exp(-$0)) }
            ref += dense(v, w4, b4, 3, 3)
        }
        XCTAssertLessThan(relativeError(y, ref), 1e-5)
    }

    /// In the emitted source, outside string literals and `//` comments, no trace of the names.
    func testNoNameOutsideLiteralsAndComments() {
        let ir = BackendTestModels.all.first { $0.name == "safe_names" }!
        for fuse in [false, true] {
            let src = Emitter.emit(ir, fuse: fuse).source
            var code = "", comments = ""
            for line in src.split(separator: "\n", omittingEmptySubsequences: false) {
                var inString = false, escaped = false, prev: Character = " "
                for ch in line {
                    if inString {
                        if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
                        prev = " "
                        continue
                    }
                    if ch == "/" && prev == "/" {
                        code.removeLast()
                        if let r = line.range(of: "//") { comments += line[r.lowerBound...] + "\n" }
                        break
                    }
                    if ch == "\"" { inString = true; code.append("S"); prev = " "; continue }
                    code.append(ch); prev = ch
                }
                XCTAssertFalse(inString, "unterminated string literal in emitted line: \(line)")
                code.append("\n")
            }
            XCTAssertFalse(code.contains("fatalError"), "a name leaked into code")
            XCTAssertFalse(code.contains("/*") || code.contains("*/"), "a comment delimiter leaked into code")
            XCTAssertTrue(comments.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F || $0 == "\n" }, "comments are printable ASCII")
            XCTAssertTrue(comments.contains("\\u{5c42}"), "the Unicode name appears escaped in comments")
            for bad in ["\u{2028}", "\u{0}", "\r"] {
                XCTAssertFalse(src.contains(bad), "raw \(bad.unicodeScalars.map { $0.value }) in the emitted source")
            }
        }
    }
}
