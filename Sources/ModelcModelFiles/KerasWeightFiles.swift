// Keras weight files read through modelc's own HDF5 and zip readers (issue 18):
//
// - Keras 3 `.weights.h5`: `layers/<group>/vars/<i>`, one group per layer (nested for layers
//   inside layers); the `vars` group's `name` attribute is the layer's name (the group name is
//   only a unique path name). Arrays are keyed "<layer>/vars/<i>"; ModelcRuntime's
//   KerasWeightNames maps the indices to the model's tensor names.
// - Keras 2 `.h5`, full model (`model_weights/...`, plus the `model_config` attribute) or weights
//   only (layer groups at the root): the `layer_names` attribute lists the layers, each layer
//   group's `weight_names` attribute its datasets ("conv2d_1/kernel:0", or Keras 3's legacy
//   "conv2d_1/kernel"). Arrays are keyed "<layer>/<weight>" ("conv2d_1/kernel"). Attributes that
//   Keras split because of HDF5's 64 KiB header limit ("layer_names0", "layer_names1", ...) are
//   joined.
// - `.keras`: a zip holding `config.json`, `metadata.json` and `model.weights.h5`.
//
// Optimizer state (`optimizer/`, `optimizer_weights/`) is not read: these are model weights.
// Every other dataset must be placed, so nothing of the model's weights is left behind silently.

import ModelcData

public enum KerasWeightFiles {
    /// Reads a Keras HDF5 weights file (Keras 3 `.weights.h5` or Keras 2 `.h5`), chosen by its content.
    public static func readH5(path: String) throws -> [String: NDArray] {
        try decodeH5(FileIO.read(path: path), file: path)
    }

    /// Reads the weights member of a `.keras` archive.
    public static func readKeras(path: String) throws -> [String: NDArray] {
        try decodeH5(try kerasMember("model.weights.h5", path: path), file: "\(path)(model.weights.h5)")
    }

    /// The text of `config.json` in a `.keras` archive (the model's architecture).
    public static func kerasConfigJSON(path: String) throws -> String {
        String(decoding: try kerasMember("config.json", path: path), as: UTF8.self)
    }

    static func kerasMember(_ name: String, path: String) throws -> [UInt8] {
        let found = try kerasMember(name, in: try FileIO.read(path: path), file: path)
        guard let data = found.data else {
            throw DataError(file: path, message: "not a Keras .keras archive: expected a member '\(name)', found \(found.names)")
        }
        return data
    }

    /// Member `name` of the `.keras` zip `bytes` (nil when absent), and every member's name.
    public static func kerasMember(_ name: String, in bytes: [UInt8], file: String,
                                   maxOutput: Int = DataLimits.maxDecompressedBytes) throws -> (data: [UInt8]?, names: [String]) {
        let entries = try Zip.entries(bytes, file: file)
        let data = try entries.first { $0.name == name }.map { try Zip.extract($0, from: bytes, file: file, maxOutput: maxOutput) }
        return (data, entries.map(\.name))
    }

    public static func decodeH5(_ bytes: [UInt8], file: String) throws -> [String: NDArray] {
        let h5 = try HDF5File(bytes: bytes, file: file)
        let root = h5.root
        if try h5.attributeNames(root).contains(where: { $0.hasPrefix("layer_names") }) {
            return try keras2(h5, root)
        }
        if let group = try h5.object("model_weights") { return try keras2(h5, group) }
        if let layers = try h5.object("layers") {
            if let v = try h5.object("vars"), try h5.isGroup(v), try !h5.members(v).isEmpty {
                throw h5.fail(v, "model-level variables belong to no layer; modelc cannot place them")
            }
            return try keras3(h5, layers)
        }
        let members = try h5.members(root).map(\.path)
        throw DataError(file: file, message: "not a Keras weights file: expected a 'layers' group (Keras 3), a 'model_weights' group or a 'layer_names' attribute (Keras 2); found members \(members)")
    }

    /// A list attribute, joined from Keras' chunks ("name0", "name1", ...) when it was split.
    static func listAttribute(_ h5: HDF5File, _ name: String, of o: HDF5File.Object) throws -> [String]? {
        if let v = try h5.attributeStrings(name, of: o) { return v }
        var out: [String] = []
        var k = 0
        while let part = try h5.attributeStrings("\(name)\(k)", of: o) { out += part; k += 1 }
        return k > 0 ? out : nil
    }

    static func keras2(_ h5: HDF5File, _ group: HDF5File.Object) throws -> [String: NDArray] {
        guard let layers = try listAttribute(h5, "layer_names", of: group) else {
            throw h5.fail(group, "expected a 'layer_names' attribute (Keras 2 weights)")
        }
        var out: [String: NDArray] = [:]
        for layer in layers + ["top_level_model_weights"] {
            guard let g = try h5.object(layer, from: group) else {
                if layer == "top_level_model_weights" { continue }
                throw h5.fail(group, "layer_names lists '\(layer)' but the file has no such group")
            }
            guard let names = try listAttribute(h5, "weight_names", of: g) else {
                throw h5.fail(g, "expected a 'weight_names' attribute")
            }
            if layer == "top_level_model_weights" && !names.isEmpty {
                throw h5.fail(g, "model-level weights \(names) belong to no layer; modelc cannot place them")
            }
            for w in names {
                guard let d = try h5.object(w, from: g) else { throw h5.fail(g, "weight_names lists '\(w)' but the group has no such dataset") }
                let path = w.split(separator: "/").map(String.init)
                var base = path.last ?? w
                if let colon = base.lastIndex(of: ":"), base[base.index(after: colon)...].allSatisfy(\.isNumber) {
                    base = String(base[..<colon])
                }
                // MultiHeadAttention's four projections: `mha/query/kernel:0` keeps its sub-layer
                // (a layer itself named "query" has `query/kernel:0`, and stays `query/kernel`).
                if path.count >= 3, path[path.count - 3] == layer, attentionParts.contains(path[path.count - 2]) {
                    base = path[path.count - 2] + "/" + base
                }
                let key = "\(layer)/\(base)"
                guard out[key] == nil else { throw h5.fail(d, "two weights of layer '\(layer)' are both named '\(base)'") }
                out[key] = try h5.read(d)
            }
        }
        return out
    }

    static func keras3(_ h5: HDF5File, _ layers: HDF5File.Object) throws -> [String: NDArray] {
        var out: [String: NDArray] = [:]
        var inVars = Set<String>()
        try h5.walk(from: layers) { o in
            let parts = o.path.split(separator: "/")
            guard parts.last == "vars", try h5.isGroup(o) else {
                if try h5.isDataset(o), !inVars.contains(o.path) {
                    throw h5.fail(o, "expected Keras 3 variables under '<layer>/vars/', found a dataset elsewhere")
                }
                return
            }
            let layer = try owner(h5, of: o)
            let members = try h5.members(o)
            for (i, m) in members.sorted(by: { index($0) < index($1) }).enumerated() {
                guard index(m) == i, try h5.isDataset(m) else {
                    throw h5.fail(m, "expected the variables of layer '\(layer)' to be datasets named 0..\(members.count - 1)")
                }
                let key = "\(layer)/vars/\(i)"
                guard out[key] == nil else { throw h5.fail(m, "two layers are both named '\(layer)'") }
                out[key] = try h5.read(m)
                inVars.insert(m.path)
            }
        }
        return out
    }

    /// The layer a `vars` group's variables belong to, as the model's tensor keys name it:
    /// - `<layer>/vars`: the group's `name` attribute (Keras 3.6+), else `<layer>`;
    /// - a recurrent layer's `<layer>/cell/vars` (named after the cell, "lstm_cell"): `<layer>`'s;
    /// - TimeDistributed's `<wrapper>/layer/vars`: the wrapper's (its tensors are the wrapper's);
    /// - MultiHeadAttention's `<layer>/query_dense/vars` (key_dense, value_dense, output_dense):
    ///   "<layer>/query" (key, value, attention_output), the tensors' scopes;
    /// - Bidirectional's `<wrapper>/forward_layer[/cell]/vars`: "<wrapper>/forward_layer" (and
    ///   backward_layer): the direction's own name follows its inner layer's ("forward_lstm_1"),
    ///   which the model does not know; KerasWeightNames places it by the direction.
    static func owner(_ h5: HDF5File, of vars: HDF5File.Object) throws -> String {
        let groups = vars.path.split(separator: "/").dropLast().map(String.init)
        func name(_ path: [String], own: HDF5File.Object? = nil) throws -> String {
            let o = try own ?? h5.object("/" + (path + ["vars"]).joined(separator: "/"))
            return try o.flatMap { try h5.attributeStrings("name", of: $0)?.first } ?? path.last ?? ""
        }
        // A top-level layer's group, right under `layers`, is named by Keras, never "cell" or "layer".
        guard groups.count >= 3 else { return try name(groups, own: vars) }
        let layer = groups.last == "cell" ? Array(groups.dropLast()) : groups
        if let part = layer.last.flatMap({ attentionGroups[$0.hasPrefix("_") ? String($0.dropFirst()) : $0] }) {
            return try name(Array(layer.dropLast())) + "/" + part
        }
        switch layer.last {
        case "layer"?: return try name(Array(layer.dropLast()))
        case "forward_layer"?, "backward_layer"?: return try name(Array(layer.dropLast())) + "/" + (layer.last ?? "")
        default: return try name(layer, own: layer.count == groups.count ? vars : nil)
        }
    }

    /// MultiHeadAttention's projections: Keras 2's weight-name parts, Keras 3's attribute groups.
    static let attentionGroups = ["query_dense": "query", "key_dense": "key", "value_dense": "value", "output_dense": "attention_output"]
    static let attentionParts = Set(attentionGroups.values)

    static func index(_ o: HDF5File.Object) -> Int {
        o.path.split(separator: "/").last.flatMap { Int($0) } ?? -1
    }
}
