// Graph emission (issue 17): fusion never crosses a branch point, and every extra gradient
// use is summed into its producer's gradient before the producer's backward.

import XCTest
@testable import ModelcBackend
import ModelcCore
import TestModelSpecs

final class GraphEmissionTests: XCTestCase {
    /// conv2d -> bn -> relu -> add(relu, x) -> gap -> dense, where x is `skip`'s output.
    func residual(skip: Int) -> ModelIR {
        var b = ChainBuilder(input: [4, 4, 2])
        b.add("conv2d_1", "Conv2D", .conv2d(Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .same, filters: 3, useBias: false)))
        b.add("batch_normalization_1", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add("re_lu_1", "ReLU", .activation(.relu))
        b.add("add_1", "Add", .merge(.add))
        b.add("global_average_pooling2d_1", "GlobalAveragePooling2D", .globalAvgPool)
        b.add("dense_1", "Dense", .dense(units: 2, useBias: true, activation: .linear))
        var ir = b.ir("graph_fusion")
        ir.layers[4].producers = [3, skip]
        return ir
    }

    func testFusionStopsAtBranchPoints() {
        XCTAssertEqual(Fusion.groups(residual(skip: 1)).map(\.names), [], "conv2d_1's output is read by the add: no group")
        XCTAssertEqual(Fusion.groups(residual(skip: 2)).map(\.names), [["conv2d_1", "batch_normalization_1"]],
                       "batch_normalization_1's output is read by the add: the group ends there")
        XCTAssertEqual(Fusion.groups(residual(skip: 3)).map(\.names), [["conv2d_1", "batch_normalization_1", "re_lu_1"]],
                       "the group may end at a branch point")
    }

    func testGradientSumsPrecedeTheProducersBackward() {
        let ir = residual(skip: 3)
        XCTAssertTrue(Emitter.problems(ir).isEmpty, "\(Emitter.problems(ir))")
        let src = Emitter.emit(ir, fuse: true).source
        // re_lu_1 (l3) is read twice (add_1 slot 0 and slot 1): the second use writes g3_1.
        XCTAssertTrue(src.contains("dxs: [g3 + lo * 48, g3_1 + lo * 48]"), src)
        let backward = String(src[(src.range(of: "public func backward(")?.lowerBound ?? src.startIndex)...].prefix(2000))
        let sum = backward.range(of: "Merge.accumulate(g3 + lo * 48, g3_1 + lo * 48")
        let conv = backward.range(of: "l1_conv2d_1Backward")
        XCTAssertNotNil(sum, backward)
        XCTAssertNotNil(conv, backward)
        if let s = sum, let c = conv { XCTAssertLessThan(s.lowerBound, c.lowerBound, "the sum runs before the group's backward") }
    }
}
