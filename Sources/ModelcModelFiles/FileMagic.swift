// What a model or weights file is, told by its first bytes rather than its name. Real files are
// often misnamed: tf.keras 2.10 to 2.12 wrote HDF5 under `model.save("m.keras")`, and PyTorch
// files carry any extension (.pt, .pth, .bin, .ckpt). ONNX and text files have no magic.

import Foundation
import ModelcData

public enum FileMagic: String, Sendable {
    /// HDF5 (Keras 2 full-model and weights files): \x89 H D F \r \n \x1a \n.
    case hdf5
    /// A zip archive (`.keras`, torch.save since PyTorch 1.6, TorchScript): P K \x03 \x04.
    case zip
    /// A pickle of protocol 2 or later (torch.save before PyTorch 1.6): \x80, the protocol, then
    /// the opcodes torch.save and pickle.dump start with (a safetensors file, whose first 8
    /// bytes are its header's length and whose 9th is '{', is not one).
    case pickle

    /// The magic of the file at `path` (its first 8 bytes), nil for none of these or an unreadable file.
    public static func of(path: String) -> FileMagic? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard let d = try? h.read(upToCount: 8) else { return nil }
        return of(bytes: [UInt8](d))
    }

    public static func of(bytes b: [UInt8]) -> FileMagic? {
        if b.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) { return .hdf5 }
        if b.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .zip }
        // LONG1 (torch.save's magic number), FRAME (protocol 4+), EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, GLOBAL, MARK
        if b.count >= 3, b[0] == 0x80, (2...5).contains(b[1]), [0x8A, 0x95, 0x7D, 0x5D, 0x29, 0x63, 0x28].contains(b[2]),
           !(b.count >= 9 && b[8] == UInt8(ascii: "{")) { return .pickle }
        return nil
    }

    /// The name of a zip's first entry (its first local header), or nil: ".keras" zips start
    /// with metadata.json or config.json, torch.save archives with ARCHIVE/data.pkl.
    public static func firstZipEntry(path: String) -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard let d = try? h.read(upToCount: 30 + 1024), d.count >= 30 else { return nil }
        let b = [UInt8](d), n = Int(b[26]) | Int(b[27]) << 8
        guard of(bytes: b) == .zip, n > 0, 30 + n <= b.count else { return nil }
        return String(decoding: b[30..<(30 + n)], as: UTF8.self)
    }

    /// What a zip archive holds.
    public enum ZipContents: Sendable { case keras, torchScript, torchSave, other }

    /// A zip's contents from its entry names: a Keras 3 model (config.json), a TorchScript module
    /// (a code/ folder) or a torch.save archive (data.pkl).
    public static func zipContents(_ entries: [ZipEntry]) -> ZipContents {
        let names = entries.map(\.name)
        if names.contains("config.json") { return .keras }
        if names.contains(where: { $0.contains("/code/") || $0.hasPrefix("code/") }) { return .torchScript }
        if names.contains(where: { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }) { return .torchSave }
        return .other
    }
}
