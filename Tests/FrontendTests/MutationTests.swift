import XCTest
@testable import ModelcCore

/// Thousands of randomly damaged tables (deleted/duplicated/swapped lines, cut cells, swapped
/// digits, random bytes): each must end in a report or a ModelError, never a crash or a hang.
final class MutationTests: XCTestCase {
    /// SplitMix64: deterministic across platforms.
    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    }

    static let junk: [Character] = Array("0123456789(),[]_=-#>│┃━┏┓└┘├┼…x .:'\"\t\u{0}é漢") + ["\n"]

    static func mutate(_ text: String, _ rng: inout RNG) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let rounds = 1 + rng.int(3)
        for _ in 0..<rounds where !lines.isEmpty {
            let i = rng.int(lines.count)
            switch rng.int(8) {
            case 0: lines.remove(at: i)                                        // delete a line
            case 1: lines.insert(lines[i], at: i)                              // duplicate a line
            case 2:                                                            // cut a cell / line
                let c = Array(lines[i]); lines[i] = String(c.prefix(rng.int(c.count + 1)))
            case 3:                                                            // swap two adjacent digits
                var c = Array(lines[i])
                let digits = c.indices.filter { c[$0].isNumber }
                if let d = digits.isEmpty ? nil : digits[rng.int(digits.count)], d + 1 < c.count {
                    c.swapAt(d, d + 1); lines[i] = String(c)
                }
            case 4:                                                            // random bytes
                var c = Array(lines[i])
                for _ in 0..<(1 + rng.int(4)) {
                    let ch = junk[rng.int(junk.count)]
                    if c.isEmpty { c.append(ch) } else { c[rng.int(c.count)] = ch }
                }
                lines[i] = String(c)
            case 5:                                                            // swap two lines
                let j = rng.int(lines.count); lines.swapAt(i, j)
            case 6:                                                            // change a digit
                var c = Array(lines[i])
                let digits = c.indices.filter { c[$0].isNumber }
                if !digits.isEmpty { c[digits[rng.int(digits.count)]] = Character(String(rng.int(10))) }
                lines[i] = String(c)
            default:                                                           // insert junk
                lines.insert(String((0..<rng.int(40)).map { _ in junk[rng.int(junk.count)] }), at: i)
            }
        }
        return lines.joined(separator: "\n")
    }

    func testMutatedTablesNeverCrash() throws {
        var bases = [LayoutTests.keras2, LayoutTests.tfkeras, LayoutTests.keras3Heavy, AnnotationTests.table
                     + "\n```modelc\nlayer dropout_*: rate=0.3\ntrain: optimizer=sgd lr=0.1\n```\n"]
        for f in ["frontend/000_fcf614c7dc09b63e.txt", "frontend/002_33a2842a93eaea4e.txt"] {
            bases.append(try Fixtures.text(f))
        }
        var rng = RNG(state: 20261121)
        var reports = 0, errors = 0
        let n = 2000
        for k in 0..<n {
            let base = bases[k % bases.count]
            let text = Self.mutate(base, &rng)
            do {
                let r = try Frontend.check(text: text, path: "m.md")
                _ = r.text(); _ = r.json()
                reports += 1
            } catch let e as ModelError {
                XCTAssertFalse(e.message.isEmpty)
                XCTAssertTrue(e.description.hasPrefix("m.md"))
                errors += 1
            } catch {
                XCTFail("mutation \(k): unexpected error type \(error)")
            }
        }
        XCTAssertEqual(reports + errors, n)
        // Both outcomes occur: mutations are neither all harmless nor all fatal.
        XCTAssertGreaterThan(reports, n / 20)
        XCTAssertGreaterThan(errors, n / 20)
        print("mutations: \(n) tables, \(reports) reports, \(errors) errors")
    }

    // MARK: - Trailing notes (issue 17)

    /// One table per layout the readers know, each with every kind of line it can have.
    static func layoutSamples() throws -> [(String, String)] {
        [("keras2", LayoutTests.keras2), ("tf.keras", LayoutTests.tfkeras), ("keras3-heavy", LayoutTests.keras3Heavy),
         ("keras3-light-functional", keras3LightFunctional), ("markdown", markdownPipe), ("keras1-functional", keras1Functional),
         ("torchsummary", PyTorchTests.summary),
         ("torchinfo", try Fixtures.text(TorchInfoTests.korean)),
         ("torchinfo-var_names", try Fixtures.text("pytorch/torchinfo_varnames_kernel_shape_era_s5.txt")),
         ("torchinfo-nested", try Fixtures.text(TorchInfoTests.tinyVGG)),
         ("keras1-th", try Fixtures.text("summaries/keras1_th_cifar10_hash_convolution2d.txt")),
         ("seed000", try Fixtures.text("frontend/000_fcf614c7dc09b63e.txt"))]
    }

    static let keras3LightFunctional = """
    Model: "functional"
    ┌───────────────────────┬───────────────────┬──────────┬───────────────────┐
    │ Layer (type)          │ Output Shape      │  Param # │ Connected to      │
    ├───────────────────────┼───────────────────┼──────────┼───────────────────┤
    │ input_layer           │ (None, 28, 28, 1) │        0 │ -                 │
    │ (InputLayer)          │                   │          │                   │
    ├───────────────────────┼───────────────────┼──────────┼───────────────────┤
    │ conv2d (Conv2D)       │ (None, 26, 26, 8) │       80 │ input_layer[0][0] │
    ├───────────────────────┼───────────────────┼──────────┼───────────────────┤
    │ dropout (Dropout)     │ (None, 26, 26, 8) │        0 │ conv2d[0][0]      │
    ├───────────────────────┼───────────────────┼──────────┼───────────────────┤
    │ flatten (Flatten)     │ (None, 5408)      │        0 │ dropout[0][0]     │
    ├───────────────────────┼───────────────────┼──────────┼───────────────────┤
    │ dense (Dense)         │ (None, 10)        │   54,090 │ flatten[0][0]     │
    └───────────────────────┴───────────────────┴──────────┴───────────────────┘
     Total params: 54,170 (211.60 KB)
     Trainable params: 54,170 (211.60 KB)
     Non-trainable params: 0 (0.00 B)
    """

    static let markdownPipe = """
    | Layer (type) | Output Shape | Param # |
    |---|---|---:|
    | conv2d (Conv2D) | (None, 26, 26, 32) | 320 |
    | dropout (Dropout) | (None, 26, 26, 32) | 0 |
    | flatten (Flatten) | (None, 21632) | 0 |
    | dense (Dense) | (None, 10) | 216,330 |

    Total params: 216,650
    Trainable params: 216,650
    """

    static let keras1Functional = """
    ____________________________________________________________________________________________________
    Layer (type)                       Output Shape        Param #     Connected to
    ====================================================================================================
    dense_1 (Dense)                    (None, 256)         200960      dense_input_1[0][0]
    ____________________________________________________________________________________________________
    activation_1 (Activation)          (None, 256)         0           dense_1[0][0]
    ____________________________________________________________________________________________________
    dropout_1 (Dropout)                (None, 256)         0           activation_1[0][0]
    ____________________________________________________________________________________________________
    dense_2 (Dense)                    (None, 10)          2570        dropout_1[0][0]
    ____________________________________________________________________________________________________
    activation_2 (Activation)          (None, 10)          0           dense_2[0][0]
    ====================================================================================================
    Total params: 203530
    ____________________________________________________________________________________________________
    """

    /// Comment-marked notes (read as comments on every line) and others (plain text, border
    /// characters, numbers and a footer label that could be misread).
    static let commentNotes = ["## note", "# 3*3*32 + 32 = 320", "// see below", "<- the classifier", "← note"]
    static let otherNotes = ["note without marker", "│ extra │ cells │", "| a | b |", "Total params: 5", "(None, 10)  0"]

    static func withNote(_ text: String, line k: Int, _ note: String, separator: String = "  ") -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[k] += separator + note
        return lines.joined(separator: "\n")
    }

    /// The layers as one line each (name, class, shapes, what was inferred), for short failure messages.
    static func layers(_ ir: ModelIR) -> [String] {
        ir.layers.map { "\($0.name) (\($0.kind)) \($0.inputShape)->\($0.outputShape) \(Describe.op($0.op, semantics: ir.semantics))" }
    }

    /// A report is acceptable only for the same model; a changed verdict or changed declared
    /// totals must come with problems naming a line.
    func assertSameModelOrLineError(_ text: String, _ ref: CheckReport, _ what: String) -> Bool {
        do {
            let r = try Frontend.check(text: text, path: "n.md")
            var a = r.ir, b = ref.ir
            a.declared = DeclaredTotals(); b.declared = DeclaredTotals()
            if a != b {
                XCTFail("\(what): a different model was read: \(Self.layers(r.ir).filter { !Self.layers(ref.ir).contains($0) })"
                    + " instead of \(Self.layers(ref.ir).filter { !Self.layers(r.ir).contains($0) })")
                return false
            }
            if r.ok == ref.ok && r.ir.declared == ref.ir.declared { return true }
            XCTAssertTrue(!r.ok && r.problems.allSatisfy { $0.line != nil }, "\(what): \(r.problems)")
            return false
        } catch let e as ModelError {
            XCTAssertNotNil(e.line, "\(what): \(e)")
            XCTAssertTrue(e.description.hasPrefix("n.md:"), "\(what): \(e)")
            return false
        } catch {
            XCTFail("\(what): \(error)")
            return false
        }
    }

    /// Every note on every line of every layout: the same model, or an error naming a line;
    /// comment-marked notes are always read as comments (the same model, the same verdict).
    func testTrailingNotesOnEveryLineOfEveryLayout() throws {
        var same = 0, other = 0
        for (name, base) in try Self.layoutSamples() {
            let ref = try Frontend.check(text: base, path: "n.md")
            XCTAssertTrue(ref.ok, "\(name): \(ref.problems)")
            let count = base.split(separator: "\n", omittingEmptySubsequences: false).count
            for k in 0..<count {
                for (j, note) in (Self.commentNotes + Self.otherNotes).enumerated() {
                    let text = Self.withNote(base, line: k, note, separator: ["  ", " ", "\t", "     "][(k + j) % 4])
                    let kept = assertSameModelOrLineError(text, ref, "\(name) line \(k + 1) + '\(note)'")
                    if kept { same += 1 } else { other += 1 }
                    if Self.commentNotes.contains(note) { XCTAssertTrue(kept, "\(name) line \(k + 1): comment '\(note)' changed the result") }
                }
            }
        }
        XCTAssertGreaterThan(other, 0, "some notes (plain text after a text row) must be refused")
        print("trailing notes: \(same) same model, \(other) refused with a line")
    }

    /// The silent misread of issue 17: every line of a Keras 3 table ends in a note after its
    /// closing border. All seven layers and the footer must still be read.
    func testKeras3NotesOnEveryLine() throws {
        for (name, base) in try Self.layoutSamples() {
            let ref = try Frontend.check(text: base, path: "n.md")
            for note in ["## note"] + (name.hasPrefix("keras3") ? ["note without marker"] : []) {
                let text = base.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { $0.trimmed.isEmpty ? String($0) : $0 + "  " + note }.joined(separator: "\n")
                let r = try Frontend.check(text: text, path: "n.md")
                XCTAssertEqual(r.ir, ref.ir, "\(name) + '\(note)'")
                XCTAssertEqual(r.ir.declared, ref.ir.declared, "\(name) + '\(note)'")
                XCTAssertTrue(r.ok, "\(name) + '\(note)': \(r.problems)")
            }
        }
    }

    /// A table that ends early is an error at the line where reading stopped: a garbled row with
    /// rows below it, a row after the footer, a footer below a stray line, a cut last row.
    func testTableThatEndsEarlyIsAnError() throws {
        for (name, base) in try Self.layoutSamples() {
            let lines = base.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let ref = try Frontend.check(text: base, path: "n.md")
            let rows = Set(ref.ir.layers.filter { $0.op != .input && $0.line <= lines.count }.map(\.line)).sorted()
            XCTAssertGreaterThan(rows.count, 2, name)
            for line in rows {
                var garbled = lines
                garbled[line - 1] = "   some garbled text ~~ " + String(line)
                do {
                    let r = try Frontend.check(text: garbled.joined(separator: "\n"), path: "n.md")
                    XCTFail("\(name): row \(line) garbled, yet a report:\n\(r.text())")
                } catch let e as ModelError {
                    XCTAssertNotNil(e.line, "\(name): \(e)")
                }
            }
        }
        let extra = LayoutTests.keras3Heavy + "\n│ dropout_9 (Dropout)             │ (None, 10)             │             0 │"
        checkError(extra, contains: "k.md:20: error: reading the table stopped here: '│ dropout_9 (Dropout)", path: "k.md")
        let cut = LayoutTests.keras2.replacingOccurrences(of: "=================================================================\nTotal",
                                                          with: "(figure 3)\n=================================================================\nTotal")
        checkError(cut, contains: "s.md:20: error: reading the table stopped here at '(figure 3)'", path: "s.md")
        checkError(cut, contains: "line 21 below is a rule of the table", path: "s.md")
        let stray = LayoutTests.keras2.replacingOccurrences(of: "=================================================================\nTotal",
                                                            with: "=================================================================\n(figure 3)\nTotal")
        checkError(stray, contains: "s.md:21: error: reading the table stopped here at '(figure 3)'", path: "s.md")
        checkError(stray, contains: "line 22 below holds a total that was not read", path: "s.md")
        let ts = PyTorchTests.summary.replacingOccurrences(of: "640,050", with: "640,050 (fc)")
        checkError(ts, contains: "t.md:9: error: reading the table stopped here", path: "t.md")
    }

    func testRandomBytesNeverCrash() {
        var rng = RNG(state: 7)
        for _ in 0..<300 {
            let bytes = (0..<rng.int(600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let text = "Layer (type)  Output Shape  Param #\n" + String(decoding: bytes, as: UTF8.self)
            do { _ = try Frontend.check(text: text, path: "r.md") } catch is ModelError {} catch { XCTFail("\(error)") }
        }
    }
}
