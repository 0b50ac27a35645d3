import XCTest
@testable import ModelcCore

final class SeedTests: XCTestCase {
    func testSeed000KMNIST() throws {
        let r = try Frontend.check(path: Fixtures.path("frontend/000_fcf614c7dc09b63e.txt"))
        print(r.text())
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.totalParams, 395_178)
        XCTAssertEqual(r.ir.trainableParams, 394_730)
        XCTAssertEqual(r.ir.nonTrainableParams, 448)
        XCTAssertEqual(r.ir.declared, DeclaredTotals(total: 395_178, trainable: 394_730, nonTrainable: 448))
        let expected: [(String, Int, Int)] = [("conv2d_1", 7, 1), ("conv2d_2", 5, 1), ("conv2d_3", 3, 2)]
        for (name, k, s) in expected {
            guard case .conv2d(let a)? = r.layer(name)?.op else { return XCTFail("\(name) is not a conv") }
            XCTAssertEqual([a.kernelH, a.kernelW, a.strideH, a.strideW], [k, k, s, s], name)
            XCTAssertEqual(a.padding, .valid, name)
            XCTAssertFalse(a.useBias, name)
        }
        XCTAssertEqual(r.layer("zero_padding2d_1")?.op, .zeroPadding(top: 2, bottom: 2, left: 2, right: 2))
        XCTAssertEqual(r.layer("max_pooling2d_2")?.op, .maxPool(PoolAttrs(poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: .valid)))
        XCTAssertEqual(r.ir.dataset, "kmnist")
    }

    func testSeed002MNIST() throws {
        let r = try Frontend.check(path: Fixtures.path("frontend/002_33a2842a93eaea4e.txt"))
        print(r.text())
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual([r.ir.totalParams, r.ir.trainableParams, r.ir.nonTrainableParams], [265_258, 264_362, 896])
        var convs = 0
        for L in r.ir.layers {
            guard case .conv2d(let a) = L.op else { continue }
            convs += 1
            XCTAssertEqual([a.kernelH, a.kernelW, a.strideH, a.strideW], [3, 3, 1, 1], L.name)
            XCTAssertEqual(a.padding, .same, L.name)
            XCTAssertTrue(a.useBias, L.name)
        }
        XCTAssertEqual(convs, 6)
        XCTAssertEqual(r.ir.inputShape, [28, 28, 1])
        print(r.json())
    }
}
