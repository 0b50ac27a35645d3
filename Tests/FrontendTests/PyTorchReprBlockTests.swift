// Repr blocks. PyTorch 2 prints identical siblings of a ModuleList or Sequential collapsed:
// `(1-2): 2 x Sequential(`. Each is a child of its own (state_dict paths .1, .2), and a line
// that would stand for more than 4,096 modules is an error before anything is copied.
// A container named like a residual block is refused unless annotated `residual=false`.

import XCTest
@testable import ModelcCore

final class PyTorchReprBlockTests: XCTestCase {
    func testCollapsedSiblingsAreCopies() throws {
        let text = """
        Net(
          (layers): ModuleList(
            (0): Linear(in_features=8, out_features=16, bias=True)
            (1-3): 3 x Sequential(
              (fc): Linear(in_features=16, out_features=16, bias=True)
              (act): Tanh()
            )
            (4): Linear(in_features=16, out_features=2, bias=True)
          )
        )
        """
        let r = try XCTUnwrap(checkOK(text))
        let linears = r.ir.layers.filter { if case .dense = $0.op { return true }; return false }.map(\.name)
        XCTAssertEqual(linears, ["layers.0", "layers.1.fc", "layers.2.fc", "layers.3.fc", "layers.4"])
        XCTAssertEqual(r.ir.frameworkParamCount, 8 * 16 + 16 + 3 * (16 * 16 + 16) + 16 * 2 + 2)
    }

    func testTooManyCopiesAreRefused() {
        let text = """
        Net(
          (blocks): ModuleList(
            (0-4095): 4096 x Sequential(
              (0-99): 100 x Linear(in_features=4, out_features=4, bias=True)
            )
          )
        )
        """
        checkError(text, contains: "repeats 101 module(s) 4096 times: more than 4096")
        checkError(text.replacingOccurrences(of: "(0-4095): 4096 x", with: "(0-4095): 4095 x"), contains: "cannot read module line")
    }

    /// A shape-keeping container named like a residual block is refused (forward may add its
    /// input, which a repr does not show) unless `residual=false` says it runs as a chain.
    func testResidualByName() throws {
        let text = """
        Net(
          (conv): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
          (res1): Sequential(
            (0): Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
            (1): ReLU()
          )
          (flatten): Flatten(start_dim=1, end_dim=-1)
          (fc): Linear(in_features=512, out_features=2, bias=True)
        )
        """
        checkError(text, contains: "module 'res1' (Sequential) is named as a residual block and keeps its input's shape")
        let ok = try XCTUnwrap(checkOK(text + "\n```modelc\ninput: shape=3x8x8\nlayer res1: residual=false\n```\n"))
        XCTAssertTrue(ok.ok, "\(ok.problems)")
        XCTAssertTrue(PyTorchKnownBlocks.residualByName("model.res_block2"))
        XCTAssertFalse(PyTorchKnownBlocks.residualByName("resize"))
        checkError(text + "\n```modelc\nlayer res1: residual=true\n```\n", contains: "residual=true: a residual block")
    }

    /// Inputs found by the review of this code: each ends in a report or a clean error, fast.
    func testReviewedEdgeCases() throws {
        // an Input size (MB) that is no number of bytes
        for v in ["nan", "inf", "-1", "1e40"] {
            let text = try Fixtures.text("frontend/review/torchsummary_input_size_nan.txt").replacingOccurrences(of: "Input size (MB): nan", with: "Input size (MB): \(v)")
            XCTAssertNoThrow(try Frontend.check(text: text, path: "t.md"), v)
        }
        // nested empty Sequentials repeated 4095 x 4095 x 4095 times: refused before copying
        checkError(try Fixtures.text("frontend/review/repr_nested_empty_repeats.txt"), contains: "repeats 4096 module(s) 4095 times: more than 4096")
        // two children of one name
        checkError("""
        Net(
          (features): Sequential(
            (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))
            (0-1): 2 x ReLU()
          )
        )
        """, contains: "module 'features.0' appears twice in 'features'")
        // residual=false on a container that is not named or classed as a residual block
        checkError("""
        Net(
          (body): Sequential(
            (0): Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
          )
          (fc): Linear(in_features=512, out_features=2, bias=True)
        )
        ```modelc
        input: shape=8x8x8
        layer body: residual=false
        ```
        """, contains: "residual=false applies to a container named or classed like a residual block")
    }

    /// A Keras 3 table followed by a `# Total params: ...` note (a Python comment): the table's own
    /// footer stands; a functional table's augmentation row expands into a chain.
    func testNotesAfterFootersAndNestedFunctionalRows() throws {
        let r = try Frontend.check(path: Fixtures.path("frontend/review/keras3_hash_note_after_footer.py"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.declared.total, 139)
        let f = try Frontend.check(path: Fixtures.path("frontend/review/functional_nested_augmentation_row.md"))
        XCTAssertTrue(f.ok, "\(f.problems)")
        XCTAssertTrue(f.ir.layers.contains { $0.kind == "RandomFlip" })
    }
}
