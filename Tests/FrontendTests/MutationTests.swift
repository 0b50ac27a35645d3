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

    func testRandomBytesNeverCrash() {
        var rng = RNG(state: 7)
        for _ in 0..<300 {
            let bytes = (0..<rng.int(600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let text = "Layer (type)  Output Shape  Param #\n" + String(decoding: bytes, as: UTF8.self)
            do { _ = try Frontend.check(text: text, path: "r.md") } catch is ModelError {} catch { XCTFail("\(error)") }
        }
    }
}
