// KerasConfig: the architecture of a Keras model file, read from its JSON config.
//
// Before: a `.keras` file (a zip holding config.json, metadata.json and model.weights.h5), a
//         config JSON file (`config.json`, or what `model.to_json()` wrote), or the
//         `model_config` string of a Keras 2 `.h5` (`model(fromJSON:file:)`, for the HDF5 reader).
// After:  a CheckReport whose ModelIR is the one the equivalent summary table gives: the same
//         layer names, kinds, resolved ops and shapes, with every hyperparameter taken from
//         the config (nothing inferred), Keras semantics. The counts are computed from the
//         layers: a config declares none, so there is nothing to verify them against; each
//         layer's input shape is checked against the shape Keras 3 recorded for it
//         (`build_config.input_shape`, a Functional node's input tensor), where present.
//
// Formats: Keras 3 (`{"module": "keras", "class_name": "Sequential" | "Functional", "config":
// {"layers": [...]}}`, input shapes in InputLayer `batch_shape` or `build_config`) and Keras 2
// (`{"class_name": "Sequential" | "Model", "config": {"name": ..., "layers": [...]}}`, the older
// `"config": [...]` list form, input shapes in `batch_input_shape`). A Functional model is a
// graph of layers listed in topological order (merges; several inputs, in `input_layers`
// order, IR/ModelInputs.swift; several outputs are heads, in `output_layers` order,
// IR/ModelHeads.swift); shared layers and nested models are errors naming the layer. Messages give
// the file and the JSON path (`config.layers[3].config.kernel_size`). Layer conversion and
// shapes: KerasConfigLayers.swift; the JSON reader: KerasConfigJSON.swift.

import Foundation
import ModelcData
import ModelcModelFiles

public enum KerasConfig {
    /// Most layers a config may list.
    public static let maxLayers = 4096
    /// Largest `.keras` file read (the weights make it large; the whole zip is read to find config.json).
    public static let maxKerasFileBytes = 1 << 30

    /// Whether `modelc check`/`compile` reads `path` as a Keras model file (`.keras`, `.json`,
    /// a Keras 2 full-model `.h5`).
    public static func handles(path: String) -> Bool {
        let p = path.lowercased()
        return p.hasSuffix(".keras") || p.hasSuffix(".json") || p.hasSuffix(".h5")
    }

    /// Whether the model file at `path` carries trained weights besides its architecture
    /// (`.keras`: model.weights.h5; `.h5`: model_weights), which `compile` passes on as the weights
    /// source; a Keras model under another name (`.hdf5`, ModelCheckpoint's) is told by its first bytes.
    public static func carriesWeights(path: String) -> Bool {
        let p = path.lowercased()
        if p.hasSuffix(".keras") || p.hasSuffix(".h5") { return true }
        let magic = FileMagic.of(path: path)
        return magic == .hdf5 || magic == .zip
    }

    /// Reads and checks a `.keras` file, a config JSON file or a Keras 2 `.h5` file.
    public static func check(path: String) throws -> CheckReport {
        if path.lowercased().hasSuffix(".h5") { return try check(h5: path) }
        return try check(bytes: try readFile(path), file: path, zip: path.lowercased().hasSuffix(".keras"))
    }

    /// A Keras 2 `.h5` saved with `model.save`: the architecture is its root attribute
    /// `model_config` (a weights-only `.h5` has none, and is refused saying so).
    static func check(h5 path: String) throws -> CheckReport {
        try checkFile(path)        // the same missing-file and directory errors as the other kinds
        let config: String?, version: String?, training: String?
        do {
            let h5 = try HDF5File(path: path)
            config = try h5.rootAttributeString("model_config")
            version = (try? h5.rootAttributeString("keras_version")) ?? nil   // unreadable: unknown (KerasModel.read falls back)
            training = try h5.rootAttributeString("training_config")   // model.compile's settings (KerasCompileConfig)
        } catch let e as DataError {
            throw modelError(e, file: path)
        }
        guard let text = config else {
            throw ModelError(file: path, line: nil, message: "has no 'model_config' attribute: a weights-only .h5 (model.save_weights) holds no architecture; give the model's summary or its .keras/.h5 model file, and this file as --weights")
        }
        return try check(json: Array(text.utf8), file: path, container: "model_config", kerasVersion: version,
                         trainingConfig: training.map { Array($0.utf8) })
    }

    /// Checks a `.keras` zip (`zip`) or config JSON held in memory; `file` names it in messages.
    public static func check(bytes: [UInt8], file: String, zip: Bool) throws -> CheckReport {
        if zip {
            return try check(json: try configJSON(fromKeras: bytes, file: file), file: file, container: "config.json",
                             kerasVersion: kerasVersion(fromKeras: bytes, file: file))
        }
        return try check(json: bytes, file: file, container: nil)
    }

    /// The architecture in a Keras 2 `.h5` file's `model_config` attribute (or any Keras
    /// config JSON text); `file` names the source in messages.
    public static func model(fromJSON text: String, file: String) throws -> CheckReport {
        try check(json: Array(text.utf8), file: file, container: "model_config")
    }

    /// The missing-file and directory errors every kind of model file gets.
    static func checkFile(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ModelError(file: path, line: nil, message: "no such file")
        }
        if isDir.boolValue { throw ModelError(file: path, line: nil, message: "is a directory, expected a .keras file or a Keras config .json file") }
    }

    /// A `.keras` or config file's bytes; the size limit is checked before reading.
    static func readFile(_ path: String) throws -> [UInt8] {
        try checkFile(path)
        let limit = path.lowercased().hasSuffix(".keras") ? maxKerasFileBytes : JSONReader.maxBytes
        return try read(path, maxBytes: limit)
    }

    static func read(_ path: String, maxBytes: Int) throws -> [UInt8] {
        do { return try FileIO.read(path: path, maxBytes: maxBytes) } catch let e as DataError {
            throw modelError(e, file: path)
        }
    }

    /// A decoder's error on `file` (one about a file inside it keeps that file's name).
    static func modelError(_ e: DataError, file: String) -> ModelError {
        e.file == file ? ModelError(e) : ModelError(file: file, line: nil, message: e.description)
    }

    /// The bytes of config.json inside a `.keras` zip.
    static func configJSON(fromKeras bytes: [UInt8], file: String) throws -> [UInt8] {
        do {
            let found = try KerasWeightFiles.kerasMember("config.json", in: bytes, file: file, maxOutput: JSONReader.maxBytes)
            guard let data = found.data else {
                let names = found.names.prefix(6).joined(separator: ", ")
                throw ModelError(file: file, line: nil, message: "no config.json in the .keras archive (entries: \(names.isEmpty ? "none" : names)); a .keras file holds config.json, metadata.json and model.weights.h5")
            }
            return data
        } catch let e as DataError {
            throw modelError(e, file: file)
        }
    }

    /// The `keras_version` of a `.keras` zip's metadata.json, or nil when it has none or it cannot
    /// be read (Keras does not need it to load the model; KerasModel.read falls back).
    static func kerasVersion(fromKeras bytes: [UInt8], file: String) -> String? {
        guard let data = (try? KerasWeightFiles.kerasMember("metadata.json", in: bytes, file: file, maxOutput: 1 << 16))?.data,
              let value = try? JSONReader.parse(data, file: file + " (metadata.json)") else { return nil }
        let root = JNode(value: value, path: "", file: file + " (metadata.json)")
        guard case .object = root.value, let v = (try? root.optional("keras_version")) ?? nil, case .string(let s) = v.value else { return nil }
        return s
    }

    /// `kerasVersion`: the version the file records (.keras metadata.json, .h5 root attribute),
    /// which decides what some activation names compute (KerasConfigLayers.activation).
    /// `trainingConfig`: a Keras 2 .h5's training_config attribute (Keras 3 keeps compile_config
    /// in the config's root).
    static func check(json: [UInt8], file: String, container: String?, kerasVersion: String? = nil,
                      trainingConfig: [UInt8]? = nil) throws -> CheckReport {
        let root = JNode(value: try JSONReader.parse(json, file: file), path: "", file: file)
        let model = try KerasModel.read(root, kerasVersion: kerasVersion)
        var (ann, annDoc) = try sidecar(of: file)
        let compile = try trainingConfig.map { JNode(value: try JSONReader.parse($0, file: file + " (training_config)"), path: "", file: file + " (training_config)") }
            ?? root.optional("compile_config")
        let trainedWith = try KerasCompileConfig.apply(compile, to: &ann, file: file)
        try checkLayerDirectives(ann, layers: model.layers, doc: annDoc)
        var (ir, problems) = try KerasConfigLayers.build(model, file: file, annotations: ann)
        if let n = ann.name { ir.name = n }
        let maskZero = try model.layers.contains { l in try l.className == "Embedding" && (l.config.present("mask_zero")?.bool() ?? false) }
        try SequenceMasking.apply(&ir.layers, maskZero: maskZero) { l, m in ModelError(file: file, line: nil, message: "layer '\(l.name)' (\(l.kind)): \(m)") }
        let doc = Document(text: "", path: file)
        try SemanticDefaults.applyDataset(&ir, annotations: ann, document: annDoc)
        SemanticDefaults.applyTraining(&ir, annotations: ann)
        if let t = trainedWith { ir.assumptions.append(t) }
        do { try AugmentationLayers.check(ir) } catch let e as ModelError { throw located(e, ir: ir) }
        try KerasConfigRegularizers.apply(&ir, layers: model.layers, weightDecayAnnotated: ann.trainingKeys.contains("weight_decay") || ann.trainingKeys.contains("wd"))
        do { try ModelInputs.resolve(&ir, order: model.inputs, classesAnnotated: ann.classes != nil) } catch let e as ModelError { throw located(e, ir: ir) }
        try ModelHeads.resolve(&ir, annotations: ann, document: annDoc, order: model.outputs)
        ir.assumptions = ir.assumptions.map {
            $0.replacingOccurrences(of: "annotate `dataset:` to override", with: "a Keras config does not name its dataset")
                .replacingOccurrences(of: "annotate `dataset:`", with: "a Keras config does not name its dataset")
        }
        let source = container.map { " (\($0))" } ?? ""
        ir.assumptions.insert("parameter counts: computed from the layer configs\(source); a Keras config declares no counts, so they are verified against nothing", at: 0)
        do { try ResourceLimits.check(ir, document: doc) } catch let e as ModelError {
            throw located(e, ir: ir)
        }
        problems += Verifier.verify(&ir, totalLine: nil, trainableLine: nil, nonTrainableLine: nil).map { located($0, ir: ir) }
        return CheckReport(ir: ir, ok: problems.isEmpty, problems: problems, layout: "\(model.format) config")
    }

    /// The annotations in `FILE.modelc` beside model file FILE (none when it does not exist):
    /// what a model file cannot say (a Lambda layer's function, dataset, classes, input scaling,
    /// training settings), in the syntax of a ```modelc block, one directive per line.
    static func sidecar(of file: String) throws -> (Annotations, Document) {
        let path = file + ".modelc"
        guard FileManager.default.fileExists(atPath: path) else { return (Annotations(), Document(text: "", path: file)) }
        let doc = Document(text: String(decoding: try read(path, maxBytes: 1 << 20), as: UTF8.self), path: path)
        return (try AnnotationParser.parseSidecar(doc), doc)
    }

    /// A model file states every hyperparameter: a `layer` directive may only give a Lambda
    /// layer's function, and must name a layer of the model.
    static func checkLayerDirectives(_ ann: Annotations, layers: [KLayer], doc: Document) throws {
        for d in ann.layers {
            let hit = layers.filter { d.matches($0.name) }
            guard !hit.isEmpty else { throw doc.error(d.line, "layer '\(d.pattern)': no layer of the model has that name") }
            var rest = d.overrides
            rest.lambda = nil
            for L in hit where L.className != "Lambda" || rest != LayerOverrides() {
                throw doc.error(d.line, "layer '\(L.name)' (\(L.className)): the model file states its settings exactly; only a Lambda layer's function (standardize, affine, identity) is annotated")
            }
        }
    }

    /// A message that `Layer.line` located (a Keras layer's line is its 1-based position in
    /// `config.layers`), located by JSON path instead.
    static func located(_ e: ModelError, ir: ModelIR) -> ModelError {
        guard let line = e.line else { return e }
        let path = ir.layers.first { $0.line == line }.map { layerPath($0) } ?? "config.layers"
        return ModelError(file: e.file, line: nil, message: "\(path): \(e.message)")
    }

    static func layerPath(_ L: Layer) -> String { L.line > 0 ? "config.layers[\(L.line - 1)]" : "config" }
}

/// The model's layer list, in order, with the structure checked.
struct KerasModel {
    enum Format: String { case keras2 = "keras2", keras3 = "keras3" }
    var format: Format
    var className: String
    var layers: [KLayer]
    /// The model-level input shape Keras 3 records (`build_config.input_shape`), if any.
    var builtInput: JNode?
    /// A Functional model's graph: for each layer, the positions of the layers feeding it
    /// (nil for a Sequential model: each layer reads the one before).
    var sources: [[Int]]? = nil
    /// A Functional model's outputs in Keras's order (`output_layers`).
    var outputs: [String] = []
    /// A Functional model's inputs in Keras's order (`input_layers`).
    var inputs: [String] = []
}

struct KLayer {
    var name: String
    var className: String
    var config: JNode
    var entry: JNode
    /// Position in config.layers.
    var index: Int
    /// A shared layer's call (0: the first, which owns the weights) and, for a later call, the
    /// position of the first (KerasConfigShared.swift).
    var call = 0
    var owner: Int? = nil

    /// Saved by Keras 3 (KerasModel.read): the functions behind some activation names differ
    /// from Keras 2's (KerasConfigLayers.activation).
    var keras3 = false
    /// The Keras version the file records, if any (KerasCellDropoutRules).
    var kerasVersion: String? = nil
}

extension KerasModel {
    /// `kerasVersion`: the Keras version the file records, else the config's own `keras_version`
    /// (Keras 2's `to_json`), else Keras 3 when the config has Keras 3's "module" keys.
    static func read(_ root: JNode, kerasVersion: String? = nil) throws -> KerasModel {
        var model = try parse(root)
        let recorded = try kerasVersion ?? root.optional("keras_version").flatMap { v -> String? in if case .string(let s) = v.value { return s }; return nil }
        let keras3 = recorded.map { $0.hasPrefix("3") } ?? (model.format == .keras3)
        for i in model.layers.indices { model.layers[i].keras3 = keras3; model.layers[i].kerasVersion = recorded }
        return model
    }

    private static func parse(_ root: JNode) throws -> KerasModel {
        guard case .object = root.value else { throw root.fail("a Keras model config (a JSON object with \"class_name\" and \"config\")") }
        let cls = try root.required("class_name").string()
        let format: Format = try root.optional("module") != nil ? .keras3 : .keras2
        let config = try root.required("config")
        let built = try root.present("build_config")?.present("input_shape")
        switch cls {
        case "Sequential":
            let list = config.value.isArray ? config : try config.required("layers")
            return KerasModel(format: format, className: cls, layers: try layers(list), builtInput: built)
        case "Functional", "Model":
            let (ls, graphConfig) = try expandSharedCalls(try layers(try config.required("layers")), config: config)
            let sources = try graph(ls, config: graphConfig)
            return KerasModel(format: format, className: cls, layers: ls, builtInput: built, sources: sources,
                              outputs: try endpoints(graphConfig.required("output_layers")), inputs: try endpoints(graphConfig.required("input_layers")))
        default:
            throw try root.required("class_name").error("model class '\(cls)': expected Sequential or Functional (a subclassed model saves no layer graph; save a Sequential or Functional model)")
        }
    }

    static func layers(_ node: JNode) throws -> [KLayer] {
        let list = try node.list()
        guard !list.isEmpty else { throw node.error("the model has no layers") }
        guard list.count <= KerasConfig.maxLayers else {
            throw node.error("the model lists \(list.count) layers; modelc reads at most \(KerasConfig.maxLayers)")
        }
        var out: [KLayer] = []
        var seen = Set<String>()
        for (i, entry) in list.enumerated() {
            let cls = try entry.required("class_name").string()
            let config = try entry.required("config")
            guard case .object = config.value else { throw config.fail("an object") }
            let name = try config.required("name").string()
            guard seen.insert(name).inserted else { throw try config.required("name").error("layer name '\(name)' appears twice") }
            let hasLayers = try config.optional("layers") != nil
            if ["Sequential", "Functional", "Model"].contains(cls) || hasLayers {
                throw entry.error("layer '\(name)' (\(cls)) is a nested model; nested models are not supported (build the model from its layers directly)")
            }
            out.append(KLayer(name: name, className: cls, config: config, entry: entry, index: i))
        }
        return out
    }

    // MARK: - Functional chains

    /// Inputs (InputLayers, the first layer one of them) and outputs (layers nothing reads);
    /// each layer called once, fed by layers listed before it (Keras lists a Functional model's
    /// layers in topological order). Returns each layer's sources as positions in `ls` (none
    /// for an input).
    static func graph(_ ls: [KLayer], config: JNode) throws -> [[Int]] {
        let ins = try endpoints(config.required("input_layers"))
        let outs = try endpoints(config.required("output_layers"))
        let inputLayers = ls.filter { $0.className == "InputLayer" }.map(\.name)
        guard Set(ins) == Set(inputLayers), ins.count == inputLayers.count else {
            throw try config.required("input_layers").error("the inputs are \(ins.joined(separator: ", ")), but the InputLayers are \(inputLayers.joined(separator: ", "))")
        }
        var position: [String: Int] = [:]
        var sources: [[Int]] = []
        for (i, l) in ls.enumerated() {
            let nodes = try l.entry.required("inbound_nodes").list()
            if l.className == "InputLayer" {
                guard nodes.isEmpty else { throw l.entry.error("InputLayer '\(l.name)' has inbound nodes; an InputLayer reads nothing") }
            } else if i == 0 {
                throw l.entry.error("the first layer '\(l.name)' (\(l.className)) should be one of the model's InputLayers")
            } else {
                guard nodes.count == 1 else {
                    throw try l.entry.required("inbound_nodes").error("layer '\(l.name)' (\(l.className)) is called \(nodes.count) times (a shared layer); shared layers are not supported")
                }
                try checkTrainingArgument(nodes[0], layer: l.name, className: l.className)
                let from = try inputs(of: nodes[0]).map { name -> Int in
                    guard let p = position[name] else {
                        throw nodes[0].error("layer '\(l.name)' (\(l.className)) is fed by '\(name)', which is not a layer listed before it")
                    }
                    return p
                }
                guard !from.isEmpty else { throw nodes[0].error("layer '\(l.name)' (\(l.className)) has no input") }
                sources.append(from)
            }
            if l.className == "InputLayer" { sources.append([]) }
            position[l.name] = i
        }
        // The outputs are the layers nothing reads (several: heads, IR/ModelHeads.swift).
        let used = Set(sources.flatMap { $0 })
        let ends = ls.indices.filter { !used.contains($0) }.map { ls[$0].name }
        if let dead = ends.first(where: { !outs.contains($0) }), let l = ls.first(where: { $0.name == dead }) {
            throw l.entry.error("layer '\(l.name)' (\(l.className)) feeds no layer and is not an output (outputs: \(outs.joined(separator: ", ")))")
        }
        if let inner = outs.first(where: { !ends.contains($0) }) {
            throw try config.required("output_layers").error("the output '\(inner)' feeds other layers (or is not a layer); an output must be a layer nothing else reads")
        }
        return sources
    }

    /// Layer names in `input_layers` / `output_layers`: [["name", 0, 0], ...] or one ["name", 0, 0].
    static func endpoints(_ n: JNode) throws -> [String] {
        let items = try n.list()
        if let first = items.first, case .string = first.value { return [try first.string()] }
        return try items.map { e -> String in
            let parts = try e.list()
            guard let f = parts.first else { throw e.fail("[\"layer_name\", node, tensor]") }
            return try f.string()
        }
    }

    /// Layers whose computation depends on the mode (and nested models, which may hold them).
    static let modeDependent: Set<String> = ["Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianDropout", "GaussianNoise",
                                             "AlphaDropout", "BatchNormalization", "LSTM", "GRU", "SimpleRNN", "Bidirectional",
                                             "TimeDistributed", "Functional", "Sequential", "Model", "MultiHeadAttention"]

    /// A call's `training=` argument overrides the model's mode for a layer whose computation
    /// depends on it: `training=True` keeps dropout and batch statistics on at inference,
    /// `training=False` keeps them off in training (a frozen base model's BatchNorm). modelc
    /// compiles the model's own modes, so either is refused there. Keras 2 writes the kwargs a
    /// call was given; Keras 3 (kwargs an object) before 3.16 also writes `training: false` on
    /// functional Dropout calls that never passed it, so `false` is read there only on
    /// BatchNormalization and nested models.
    static func checkTrainingArgument(_ node: JNode, layer: String, className: String) throws {
        let className = LayerKind.exact(className)?.rawValue ?? className   // BatchNormalizationV1, LSTMV2, ...
        guard modeDependent.contains(className) else { return }
        let keras3 = node.value.isObject
        for k in try callKwargs(node) {
            guard let t = try k.optional("training"), case .bool(let on) = t.value else { continue }
            guard on || !keras3 || ["BatchNormalization", "Functional", "Sequential", "Model"].contains(className) else { continue }
            throw t.error("layer '\(layer)' (\(className)) is called with training=\(on ? "True" : "False"), which fixes its mode "
                + "(\(on ? "dropout and batch statistics also at inference" : "no dropout and moving statistics also in training")); "
                + "modelc runs every layer in the model's own mode, so this call is not supported")
        }
    }

    /// A call's keyword arguments: Keras 3's `kwargs`, or Keras 2's on each input (its fourth item).
    static func callKwargs(_ node: JNode) throws -> [JNode] {
        var kwargs: [JNode] = []
        if case .array = node.value {
            for t in try node.list() { if let p = try? t.list(), p.count >= 4, case .object = p[3].value { kwargs.append(p[3]) } }
        } else if let k = try node.optional("kwargs") { kwargs.append(k) }
        return kwargs
    }

    /// The layer names that feed one inbound node: Keras 3 `{"args": [...], "kwargs": {...}}` with
    /// `__keras_tensor__` values, or Keras 2 `[["name", node, tensor, {kwargs}], ...]`. A
    /// MultiHeadAttention call's tensors given by name come in Keras's order, query, value, key
    /// (Keras 2 keeps the first positional input and puts value= and key= in its kwargs).
    static func inputs(of node: JNode) throws -> [String] {
        if case .array = node.value {
            return try node.list().flatMap { t -> [String] in
                let parts = try t.list()
                guard parts.count >= 3 else { throw t.fail("[\"layer_name\", node_index, tensor_index, kwargs]") }
                var named: [JNode] = []
                if parts.count >= 4, case .object = parts[3].value {
                    for key in attentionInputs.dropFirst() { if let k = try parts[3].present(key), k.value.isArray { named.append(k) } }
                }
                return try ([t] + named).map { try history($0) }
            }
        }
        var out: [String] = []
        guard let args = try node.optional("args"), let kwargs = try node.optional("kwargs"), case .object(let members) = kwargs.value else {
            try collectTensors(node, into: &out, depth: 0)
            return out
        }
        try collectTensors(args, into: &out, depth: 1)
        let rank = { (k: String) in attentionInputs.firstIndex(of: k) ?? attentionInputs.count }
        let order = members.map(\.0).enumerated().sorted { (rank($0.1), $0.0) < (rank($1.1), $1.0) }.map(\.1)
        for k in order { try collectTensors(kwargs.required(k), into: &out, depth: 1) }
        return out
    }

    static let attentionInputs = ["query", "value", "key"]

    /// A Keras 2 input ["name", node, tensor, ...]: the layer's name (node and tensor 0).
    static func history(_ t: JNode) throws -> String {
        let parts = try t.list()
        guard parts.count >= 3 else { throw t.fail("[\"layer_name\", node_index, tensor_index, kwargs]") }
        guard try parts[1].int() == 0, try parts[2].int() == 0 else {
            throw t.error("an input from node \(try parts[1].int()) tensor \(try parts[2].int()) of '\(try parts[0].string())': shared layers and multi-output layers are not supported")
        }
        return try parts[0].string()
    }

    /// Every `__keras_tensor__` in a Keras 3 node (args and kwargs), in order.
    static func collectTensors(_ n: JNode, into out: inout [String], depth: Int) throws {
        switch n.value {
        case .array:
            for c in try n.list() { try collectTensors(c, into: &out, depth: depth + 1) }
        case .object(let members):
            if let cls = try n.optional("class_name"), try cls.string() == "__keras_tensor__" {
                let h = try n.required("config").required("keras_history").list()
                guard h.count == 3 else { throw try n.required("config").required("keras_history").fail("[\"layer_name\", node_index, tensor_index]") }
                guard try h[1].int() == 0, try h[2].int() == 0 else {
                    throw n.error("an input from node \(try h[1].int()) tensor \(try h[2].int()) of '\(try h[0].string())': shared layers and multi-output layers are not supported")
                }
                out.append(try h[0].string())
                return
            }
            for (k, _) in members { try collectTensors(n.required(k), into: &out, depth: depth + 1) }
        default: return
        }
    }
}

extension JSONValue {
    var isArray: Bool { if case .array = self { return true } else { return false } }
    var isObject: Bool { if case .object = self { return true } else { return false } }
}
