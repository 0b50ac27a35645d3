import XCTest
@testable import ModelcCore

/// Real public model summaries (Tests/Fixtures/summaries, gathered with their sources in
/// manifest.json): each must give exactly the expected counts, or the expected error.
final class CorpusTests: XCTestCase {
    struct Entry {
        var file: String
        var layout: String
        var counts: (Int, Int, Int)?
        var errors: [String]
        /// What the table alone cannot give modelc (e.g. the input of a `multiple` table).
        var needs: String?
        /// The table prints (C, H, W) shapes (Keras 1, image_dim_ordering='th').
        var channelsFirst = false
        /// With `needs`: the annotation a user adds (e.g. `input: shape=10x1000`), after which the
        /// table must verify with the expected counts.
        var annotate: String?
        /// With an expected error: the counts the table must verify with once `annotate` is added
        /// (a PyTorch repr that cannot say its token count or what forward keeps).
        var annotatedCounts: (Int, Int, Int)?
    }

    func loadManifest() throws -> [Entry] {
        let path = Fixtures.path("summaries/manifest.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            XCTFail("corpus manifest missing: \(path)")
            return []
        }
        guard let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            XCTFail("\(path): expected a JSON array of objects")
            return []
        }
        var out: [Entry] = []
        for (i, o) in list.enumerated() {
            guard let file = o["file"] as? String else { XCTFail("\(path): entry \(i) has no \"file\""); continue }
            var e = Entry(file: file, layout: o["layout"] as? String ?? "", counts: nil, errors: [], needs: o["needs"] as? String,
                          channelsFirst: o["channels_first"] as? Bool ?? false)
            e.annotate = o["annotate"] as? String
            if let s = o["error"] as? String { e.errors = [s] }
            if let a = o["error_one_of"] as? [String] { e.errors += a }
            if let c = o["annotated_counts"] as? [Int], c.count == 3 { e.annotatedCounts = (c[0], c[1], c[2]) }
            if e.errors.isEmpty {
                guard let t = o["total"] as? Int, let tr = o["trainable"] as? Int, let nt = o["non_trainable"] as? Int else {
                    XCTFail("\(path): entry \(file) has neither counts nor an expected error"); continue
                }
                e.counts = (t, tr, nt)
            }
            out.append(e)
        }
        return out
    }

    /// Issue 17's second corpus (manifest entries with "corpus": 2, gathered after the new layer
    /// kinds were named): at least 30 real published summaries verify; testCorpus checks each.
    func testSecondCorpusVerifiesAtLeastThirty() throws {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: Fixtures.path("summaries/manifest.json")))
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        let second = list.filter { ($0["corpus"] as? Int) == 2 }
        XCTAssertGreaterThanOrEqual(second.count, 60)
        XCTAssertGreaterThanOrEqual(second.filter { $0["total"] != nil }.count, 30)
    }

    func testCorpus() throws {
        let entries = try loadManifest()
        XCTAssertGreaterThanOrEqual(entries.count, 30, "the corpus must hold at least 30 real summaries")
        var layouts = Set<String>()
        for e in entries {
            layouts.insert(e.layout)
            let path = Fixtures.path("summaries/" + e.file)
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), "missing corpus file \(e.file)")
            do {
                let r = try Frontend.check(path: path)
                if let (t, tr, nt) = e.counts {
                    XCTAssertEqual([r.ir.totalParams, r.ir.trainableParams, r.ir.nonTrainableParams], [t, tr, nt], e.file)
                    XCTAssertTrue(r.ok, "\(e.file): \(r.problems.map(\.description))")
                    // Every other table is channels-last: the order is read from the shapes, never guessed.
                    XCTAssertEqual(r.ir.channelsFirst, e.channelsFirst, e.file)
                    XCTAssertEqual(r.ir.flattenOrder, e.channelsFirst ? .chw : .hwc, e.file)
                } else {
                    // A mismatch report (exit 1) is also a rejection; its problems must name the expected text.
                    XCTAssertFalse(r.ok, "\(e.file): expected a rejection containing \(e.errors), got an ok report")
                    let text = r.problems.map(\.description).joined(separator: "\n")
                    XCTAssertTrue(e.errors.contains { text.contains($0) }, "\(e.file): problems '\(text)' contain none of \(e.errors)")
                }
            } catch let err as ModelError {
                if let (t, tr, nt) = e.counts {
                    // A table that cannot be resolved without extra information (manifest "needs") must
                    // say what is missing and still verify the rows' sum against the expected total.
                    if e.needs != nil {
                        XCTAssertTrue(err.message.contains("add up to \(formatCount(t)) params"), "\(e.file): \(err)")
                        XCTAssertTrue(err.message.contains("annotate"), "\(e.file): \(err)")
                        print("corpus: \(e.file) needs \(e.needs ?? ""): \(err.message)")
                        if let a = e.annotate { try checkAnnotated(e, annotation: a, path: path, counts: (t, tr, nt)) }
                    } else {
                        XCTFail("\(e.file): expected counts, got \(err)")
                    }
                } else {
                    XCTAssertTrue(e.errors.contains { err.description.contains($0) }, "\(e.file): '\(err)' contains none of \(e.errors)")
                    XCTAssertTrue(err.description.hasPrefix(path), "\(e.file): error does not name the file: \(err)")
                    if let a = e.annotate, let c = e.annotatedCounts { try checkAnnotated(e, annotation: a, path: path, counts: c) }
                }
            }
        }
        print("corpus: \(entries.count) summaries, layouts: \(layouts.sorted().joined(separator: ", "))")
    }

    /// The table with the annotation its `needs` names verifies with the expected counts.
    func checkAnnotated(_ e: Entry, annotation a: String, path: String, counts: (Int, Int, Int)) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8) + "\n<!-- modelc\n\(a)\n-->\n"
        let r = try Frontend.check(text: text, path: path)
        XCTAssertEqual([r.ir.totalParams, r.ir.trainableParams, r.ir.nonTrainableParams], [counts.0, counts.1, counts.2], e.file)
        XCTAssertTrue(r.ok, "\(e.file) with `\(a)`: \(r.problems.map(\.description))")
    }
}
