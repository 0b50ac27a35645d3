// Repr blocks. PyTorch 2 prints identical siblings of a ModuleList or Sequential collapsed:
// `(1-2): 2 x Sequential(`. Each is a child of its own (state_dict paths .1, .2), and a line
// that would stand for too many modules is an error before anything is copied.
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
        checkError(text, contains: "repeats 100 module(s) 4096 times: more than 65536")
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
}
