// The protobuf wire-format reader (Protobuf.swift) and ONNX tensors (ONNXTensor.swift) on
// hand-written bytes: values, bounds, depth, and the errors hostile bytes get.
import XCTest
@testable import ModelcData
@testable import ModelcModelFiles

final class ProtobufTests: XCTestCase {
    func reader(_ b: [UInt8]) -> ProtoReader { ProtoReader(bytes: b, file: "t.pb") }

    func error(_ body: () throws -> Void) -> DataError? {
        do { try body() } catch let e as DataError { return e } catch { XCTFail("not a DataError: \(error)") }
        return nil
    }

    func testVarintsFixedAndPacked() throws {
        var r = reader([0x96, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
        XCTAssertEqual(try r.varint(), 150)
        XCTAssertEqual(try r.int64(), -1)
        XCTAssertTrue(r.atEnd)
        // field 4 (wire 2), packed floats 1.0 and -2.0; field 8 packed varints 3, 300
        var p = reader([0x22, 8, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0x42, 3, 3, 0xac, 0x02])
        var floats: [Float] = [], ints: [Int64] = []
        let (n1, w1) = try XCTUnwrap(try p.field())
        XCTAssertEqual(n1, 4)
        try p.floats(w1, into: &floats)
        let (n2, w2) = try XCTUnwrap(try p.field())
        XCTAssertEqual(n2, 8)
        try p.int64s(w2, into: &ints)
        XCTAssertEqual(floats, [1, -2])
        XCTAssertEqual(ints, [3, 300])
        XCTAssertNil(try p.field())
    }

    func testTruncatedAndOverlongVarints() {
        var r = reader([0x08, 0x96])   // key, then a varint cut short
        let e = error { _ = try r.field(); _ = try r.varint() }
        XCTAssertEqual(e?.offset, 1)
        XCTAssertTrue(e?.message.contains("expected a varint, found the end of the message") ?? false, "\(String(describing: e))")
        var long = reader(Array(repeating: 0xff, count: 11))
        XCTAssertTrue(error { _ = try long.varint() }?.message.contains("at most 64 bits") ?? false)
    }

    func testLengthPastTheEndAndNestedBounds() throws {
        var r = reader([0x0a, 0x64, 1, 2, 3])   // field 1, 100 bytes claimed, 3 present
        let e = error { _ = try r.field(); _ = try r.lengthDelimited() }
        XCTAssertEqual(e?.description, "t.pb: offset 1: expected 100 bytes of a length-delimited field, found 3 left in the enclosing message")
        // An inner field may not reach past its message, even when the file has the bytes.
        var outer = reader([0x0a, 0x03, 0x0a, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])
        _ = try outer.field()
        var inner = try outer.message()
        _ = try inner.field()
        XCTAssertTrue(error { _ = try inner.lengthDelimited() }?.message.contains("found 1 left") ?? false)
    }

    func testNestingDepthIsLimited() {
        // 40 messages, each the only field (1) of its parent.
        var bytes: [UInt8] = []
        for _ in 0..<40 { bytes = [0x0a, UInt8(bytes.count)] + bytes }
        var r = reader(bytes)
        let e = error {
            while try r.field() != nil { r = try r.message() }
        }
        XCTAssertTrue(e?.message.contains("nested at most 32 deep") ?? false, "\(String(describing: e))")
    }

    func testGroupsAndBadFieldNumbersAreRefused() {
        var g = reader([0x0b, 0x0c])   // field 1, start group
        XCTAssertTrue(error { _ = try g.field() }?.message.contains("found 3") ?? false)
        var z = reader([0x00])         // field number 0
        XCTAssertTrue(error { _ = try z.field() }?.message.contains("field number") ?? false)
    }

    func testTensorValuesAreCheckedAgainstTheirDims() throws {
        var t = ONNXTensor()
        t.name = "w"; t.file = "t.onnx"; t.dataType = 1; t.dims = [2, 2]
        t.raw = ArraySlice([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40])
        XCTAssertEqual(try t.floats(), [1, 2, 3, 4])
        t.dims = [2, 3]
        XCTAssertTrue(error { _ = try t.floats() }?.message.contains("dims [2, 3] need 24 bytes of raw_data, found 16") ?? false)
        t.dims = [1 << 20, 1 << 20, 1 << 20]
        XCTAssertTrue(error { _ = try t.floats() }?.message.contains("expected at most") ?? false)
        t.dims = [3]; t.raw = nil; t.dataType = 10; t.intData = [0x3c00, 0xc000, 0x0001]   // FLOAT16 1, -2, smallest subnormal
        XCTAssertEqual(try t.floats(), [1, -2, Float(sign: .plus, exponent: -24, significand: 1)])
        XCTAssertTrue(error { _ = try t.ints() }?.message.contains("expected INT64 or INT32 values, found FLOAT16") ?? false)
    }
}
