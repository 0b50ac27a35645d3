// A table's recurrent cells and their activation (IR/RecurrentGates.swift): tanh unless
// annotated `activation=relu` (by name or by a glob), which the report says in both cases; the
// check's JSON carries it; any other activation on a cell is refused naming the line.
import XCTest
@testable import ModelcCore

final class RecurrentActivationTests: XCTestCase {
    func activations(_ r: CheckReport) -> [RecurrentActivation?] {
        r.ir.layers.compactMap { l -> RecurrentActivation?? in if case .recurrent(let a) = l.op { return a.activation }; return nil }
    }

    func testAnnotatedReluByNameOrGlobAndTheTanhAssumption() throws {
        let text = try Fixtures.text("numerics/relu_cells/model.md")
        let named = try Frontend.check(text: text, path: "relu.md")
        XCTAssertEqual(activations(named), [.relu, .relu, .relu, .relu])
        XCTAssertTrue(named.ir.layers.contains { $0.notes.contains("activation=relu (annotated): the cell's candidate and output use relu in place of tanh") })
        XCTAssertFalse(named.ir.assumptions.contains { $0.contains("activation tanh") }, "\(named.ir.assumptions)")
        XCTAssertTrue(named.json().contains("\"activation\": \"relu\""), named.json())

        let plainText = text.components(separatedBy: "\n").filter { !$0.contains(": activation=relu") }.joined(separator: "\n")
        let plain = try Frontend.check(text: plainText, path: "plain.md")
        XCTAssertEqual(activations(plain), [nil, nil, nil, nil])
        XCTAssertTrue(plain.ir.assumptions.contains("lstm, gru, simple_rnn, gru_1: activation tanh (a table does not show a cell's activation: annotate `layer lstm: activation=relu` for a relu cell)"),
                      "\(plain.ir.assumptions)")

        let glob = try Frontend.check(text: plainText.replacingOccurrences(of: "model: name=fx_relu_cells", with: "model: name=fx_relu_cells\nlayer *: activation=relu"), path: "glob.md")
        XCTAssertEqual(activations(glob), [.relu, .relu, .relu, .relu])

        let bad = plainText.replacingOccurrences(of: "model: name=fx_relu_cells", with: "model: name=fx_relu_cells\nlayer gru: activation=sigmoid")
        XCTAssertThrowsError(try Frontend.check(text: bad, path: "bad.md")) {
            XCTAssertTrue("\($0)".contains("layer 'gru' (GRU): activation=sigmoid: a recurrent cell computes tanh or relu"), "\($0)")
        }
    }
}
