// PyTorch .pt/.pth (restricted unpickler) and .safetensors: the files in
// Tests/Fixtures/pytorch_files (made by make_torch_files.py there with PyTorch) and hostile ones.
import Foundation
import XCTest
@testable import ModelcData
@testable import ModelcModelFiles
import ModelcFuzz

func torchFixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/pytorch_files").appendingPathComponent(name).path
}

final class TorchFileTests: XCTestCase {
    /// The state_dict in order, with num_batches_tracked (int64 scalars) as torch saved it.
    func testStateDictReadsInModuleOrder() throws {
        let c = try WeightsReader.readContents(path: torchFixture("conv_bn.pth"))
        XCTAssertTrue(c.ordered)
        XCTAssertEqual(c.arrays.map(\.0), ["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                            "bn1.running_var", "bn1.num_batches_tracked", "conv2.weight", "bn2.weight",
                                            "bn2.bias", "bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked",
                                            "fc.weight", "fc.bias"])
        let d = Dictionary(uniqueKeysWithValues: c.arrays)
        XCTAssertEqual(d["conv1.weight"]?.shape, [4, 1, 3, 3])
        XCTAssertEqual(d["fc.weight"]?.shape, [5, 32])
        XCTAssertEqual(d["bn1.num_batches_tracked"]?.shape, [])
        XCTAssertEqual(try d["bn1.num_batches_tracked"]?.ints(), [7])
        XCTAssertTrue(c.notes.isEmpty)
    }

    /// The same tensors from the .pth, the safetensors file and the checkpoint dict.
    func testSafetensorsAndCheckpointHoldTheSameTensors() throws {
        let pth = try WeightsReader.read(path: torchFixture("conv_bn.pth"))
        let st = try WeightsReader.readContents(path: torchFixture("conv_bn.safetensors"))
        XCTAssertFalse(st.ordered)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: st.arrays), pth)
        let ck = try WeightsReader.readContents(path: torchFixture("conv_bn_checkpoint.pt"))
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: ck.arrays), pth)
        XCTAssertEqual(ck.notes.count, 1)
        XCTAssertTrue(ck.notes[0].contains("'model_state_dict'") && ck.notes[0].contains("optimizer_state_dict"), ck.notes[0])
    }

    /// Views (transposed, strided, offset into a shared storage) are gathered; half types widen.
    func testViewsAndDtypesMatchNumpy() throws {
        let got = try WeightsReader.read(path: torchFixture("views.pt"))
        let want = try NPZ.read(path: torchFixture("views.npz"))
        XCTAssertEqual(Set(got.keys), Set(want.keys))
        for (k, w) in want {
            let g = try XCTUnwrap(got[k], k)
            XCTAssertEqual(g.shape, w.shape, k)
            XCTAssertEqual(g.dtype, w.dtype, k)
            XCTAssertEqual(g.data, w.data, k)
        }
        XCTAssertEqual(try got["half"]?.floats(), [0.5, -2, 65504, Float(5.960464477539063e-08)   /* 6e-8 as binary16: 2^-24 */])
    }

    func testSafetensorsRoundTrip() throws {
        let arrays: [(String, NDArray)] = [("b.weight", NDArray(float32: [1, 2, 3, 4, 5, 6], shape: [2, 3])),
                                           ("a\"q", NDArray(int64: [7], shape: [])), ("z", NDArray(float32: [], shape: [0, 2]))]
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try SafeTensors.write(arrays, to: dir + "/w.safetensors")
        let back = try SafeTensors.read(path: dir + "/w.safetensors")
        XCTAssertEqual(back.arrays.map(\.0), arrays.map(\.0))
        XCTAssertEqual(back.arrays.map(\.1), arrays.map(\.1))
    }

    // MARK: hostile files

    /// torch.save of an object whose pickle calls os.system: refused at the GLOBAL, naming it.
    func testOsSystemGlobalIsRefused() {
        assertDataError(["evil_os_system.pth(evil_os_system/data.pkl)", "offset", "GLOBAL", "posix.system", "not allowed", "nothing was executed"]) {
            try WeightsReader.read(path: torchFixture("evil_os_system.pth"))
        }
    }

    static func hooks() -> PickleHooks {
        PickleHooks(allowedGlobals: ["collections.OrderedDict", "torch.FloatStorage"],
                    reduce: { g, _ in throw PickleRefusal("REDUCE of \(g) is not allowed") },
                    persistentLoad: { _ in throw PickleRefusal("no storages") })
    }

    func testPickleRefusals() {
        let h = Self.hooks()
        // \x80\x02 c os\nsystem\n (S'ls' t R .
        let osSystem: [UInt8] = [0x80, 2] + Array("cos\nsystem\n".utf8) + [0x28, 0x8C, 2] + Array("ls".utf8) + [0x74, 0x52, 0x2E]
        assertDataError(["p.pkl", "offset 2", "GLOBAL", "os.system"]) { try Pickle.load(osSystem, file: "p.pkl", hooks: h) }
        // STACK_GLOBAL builtins eval
        let eval: [UInt8] = [0x80, 4, 0x8C, 8] + Array("builtins".utf8) + [0x8C, 4] + Array("eval".utf8) + [0x93, 0x2E]
        assertDataError(["offset 18", "STACK_GLOBAL", "builtins.eval"]) { try Pickle.load(eval, file: "p.pkl", hooks: h) }
        // REDUCE of an allowed global that is not a callable the caller builds
        let reduceStorage: [UInt8] = [0x80, 2] + Array("ctorch\nFloatStorage\n".utf8) + [0x29, 0x52, 0x2E]
        assertDataError(["offset 23", "REDUCE", "torch.FloatStorage"]) { try Pickle.load(reduceStorage, file: "p.pkl", hooks: h) }
        // REDUCE of a non-global (a string)
        let reduceString: [UInt8] = [0x80, 2, 0x8C, 1, 0x41, 0x29, 0x52, 0x2E]
        assertDataError(["offset 6", "REDUCE", "str"]) { try Pickle.load(reduceString, file: "p.pkl", hooks: h) }
        // NEWOBJ, INST: never
        assertDataError(["NEWOBJ", "not supported"]) { try Pickle.load([0x80, 2, 0x81, 0x2E], file: "p.pkl", hooks: h) }
        // BUILD on a list
        assertDataError(["BUILD", "list"]) { try Pickle.load([0x80, 2, 0x5D, 0x7D, 0x62, 0x2E], file: "p.pkl", hooks: h) }
        // a list appended into itself (DUP, APPEND)
        assertDataError(["APPEND", "itself"]) { try Pickle.load([0x80, 2, 0x5D, 0x32, 0x61, 0x2E], file: "p.pkl", hooks: h) }
        // truncated string, missing STOP, bytes after STOP
        assertDataError(["BINUNICODE", "truncated"]) { try Pickle.load([0x80, 2, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x41], file: "p.pkl", hooks: h) }
        assertDataError(["without STOP"]) { try Pickle.load([0x80, 2, 0x4E], file: "p.pkl", hooks: h) }
        assertDataError(["1 bytes follow STOP"]) { try Pickle.load([0x80, 2, 0x4E, 0x2E, 0x4E], file: "p.pkl", hooks: h) }
    }

    func testPickleNestingAndMemoAreBounded() {
        var deep: [UInt8] = [0x80, 2]
        deep += [UInt8](repeating: 0x5D, count: 200)                // 200 empty lists
        deep += [UInt8](repeating: 0x61, count: 199) + [0x2E]       // each appended into the one below
        assertDataError(["nest deeper than 64"]) { try Pickle.load(deep, file: "p.pkl", hooks: Self.hooks()) }
        var limits = PickleLimits()
        limits.maxMemo = 2
        let memo: [UInt8] = [0x80, 2, 0x4E, 0x71, 0, 0x71, 1, 0x71, 2, 0x2E]
        assertDataError(["memo exceeds 2"]) { try Pickle.load(memo, file: "p.pkl", hooks: Self.hooks(), limits: limits) }
    }

    /// Rewrites one archive entry (stored) of a torch zip, fixing its CRC.
    func patched(_ name: String, entry: String, _ change: (inout [UInt8]) -> Void) throws -> [UInt8] {
        let b = bytes(torchFixture(name))
        let entries = try Zip.entries(b, file: name)
        var files: [(name: String, data: [UInt8])] = []
        for e in entries {
            var d = try Zip.extract(e, from: b, file: name)
            if e.name == entry { change(&d) }
            files.append((e.name, d))
        }
        return try Zip.archiveStored(files)
    }

    func testTruncatedMemberAndShortStorage() throws {
        // A truncated archive: its zip directory is gone.
        let b = bytes(torchFixture("conv_bn.pth"))
        assertDataError(["t.pth", "end-of-central-directory"]) { try TorchCheckpoint.decode(Array(b.prefix(b.count / 2)), file: "t.pth") }
        // A member whose data is cut short (its CRC and size no longer match what it declares).
        let short = try patched("conv_bn.pth", entry: "conv_bn/data/0") { $0.removeLast(4) }
        assertDataError(["s.pth", "storage '0' declares 36 f32 elements but its entry holds 140 bytes"]) {
            try TorchCheckpoint.decode(short, file: "s.pth")
        }
        // The pickle claims a tensor larger than its storage: size (4, 1, 3, 3) -> (4, 1, 3, 9).
        let big = try patched("conv_bn.pth", entry: "conv_bn/data.pkl") { d in
            if let i = (0..<(d.count - 7)).first(where: { Array(d[$0..<($0 + 8)]) == [0x4B, 4, 0x4B, 1, 0x4B, 3, 0x4B, 3] }) { d[i + 7] = 9 }
        }
        assertDataError(["b.pth", "tensor 'conv1.weight'", "108 elements but its storage '0' holds only 36"]) {
            try TorchCheckpoint.decode(big, file: "b.pth")
        }
    }

    func testSafetensorsHostileHeaders() throws {
        let good = bytes(torchFixture("conv_bn.safetensors"))
        var huge = good
        huge[7] = 0x7F
        assertDataError(["h.safetensors", "offset 0", "header length", "exceeds the limit"]) { try SafeTensors.decode(huge, file: "h.safetensors") }
        func file(_ header: String, data: Int) -> [UInt8] {
            var h = Array(header.utf8)
            var out: [UInt8] = []
            appendLE32(&out, UInt32(h.count)); appendLE32(&out, 0)
            h += [UInt8](repeating: 1, count: data)
            return out + h
        }
        let overlap = file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12)
        assertDataError(["o.safetensors", "'a' and 'b' overlap"]) { try SafeTensors.decode(overlap, file: "o.safetensors") }
        let hole = file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, data: 12)
        assertDataError(["bytes 4..<8 belong to no tensor"]) { try SafeTensors.decode(hole, file: "g.safetensors") }
        let past = file(#"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#, data: 8)
        assertDataError(["run past the 8 data bytes"]) { try SafeTensors.decode(past, file: "p.safetensors") }
        let wrong = file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8)
        assertDataError(["'a'", "needs 12 bytes", "span 8"]) { try SafeTensors.decode(wrong, file: "w.safetensors") }
        let dtype = file(#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: 8)
        assertDataError(["dtype C64"]) { try SafeTensors.decode(dtype, file: "d.safetensors") }
    }

    /// The fuzz corpora of the pickle, torch and safetensors targets replay through
    /// WeightsFuzzEntry: valid seeds decode, the hostile ones are refused, nothing crashes.
    func testFuzzCorporaReplay() {
        for kind in WeightsFuzzEntry.kinds {
            let seeds = FuzzRegressionTests.corpus("seeds", kind)
            XCTAssertGreaterThanOrEqual(seeds.count, 3, kind)
            for f in seeds {
                let hostile = f.contains("evil") || f.contains("overlap")
                XCTAssertEqual(WeightsFuzzEntry.run(kind, bytes(f)), !hostile, f)
            }
            for f in FuzzRegressionTests.corpus("regressions", kind) { _ = WeightsFuzzEntry.run(kind, bytes(f)) }
        }
    }
}
