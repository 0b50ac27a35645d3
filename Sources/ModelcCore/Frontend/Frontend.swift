// Frontend: the public entry point of the front half of the pipeline.
//
// Before: a markdown/text document (or bare table) on disk or in memory, or a model file (Keras
//         .keras/.h5 or config .json, ONNX), told by its first bytes where it has magic (FileMagic).
// After:  a CheckReport holding a fully resolved ModelIR (every hyperparameter inferred or
//         annotated), the assumed defaults, and the verification verdict against the
//         declared parameter counts.
import Foundation
import ModelcData
import ModelcModelFiles

public enum Frontend {
    /// Reads `path` and checks it. Throws ModelError (unreadable file, no table, unsupported
    /// layer, no hyperparameters fit a layer, bad annotation). A `.onnx` file is read by
    /// ONNXImporter (protobuf, every hyperparameter exact).
    public static func check(path: String) throws -> CheckReport {
        // A binary file's first bytes decide over its name (FileMagic): HDF5 or zip is a Keras model
        // file whatever its extension; a PyTorch file is refused saying what it holds.
        if let magic = FileMagic.of(path: path) { return try checkBinary(path: path, magic: magic) }
        // Keras model files (.keras, config .json): the architecture from the config (KerasConfig.swift).
        if KerasConfig.handles(path: path) { return try KerasConfig.check(path: path) }
        if path.lowercased().hasSuffix(".onnx") { return try ONNXImporter.check(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
                throw ModelError(file: path, line: nil, message: isDir.boolValue
                    ? "is a directory, expected a markdown or text file holding a Keras model summary or a PyTorch model description"
                    : "cannot read file (permission denied?)")
            }
            throw ModelError(file: path, line: nil, message: "no such file")
        }
        // Invalid UTF-8 is repaired (U+FFFD) rather than rejected: tables are ASCII or box drawing.
        let text = String(decoding: data, as: UTF8.self)
        return try check(text: text, path: path)
    }

    /// An ONNX file's weights keyed as the IR `check` builds names them (its sidecar's open input sizes applied).
    public static func onnxWeights(path: String) throws -> [String: NDArray] { try ONNXImporter.stateDict(path: path) }

    /// The extensions PyTorch files usually carry (a zip under one of them is not read to classify it).
    static let torchExtensions = [".pt", ".pth", ".bin", ".ckpt", ".tar"]

    /// A file with magic bytes: HDF5 is a Keras 2 `.h5` model, a zip a `.keras` model (config.json)
    /// or a PyTorch archive, a pickle a torch.save file from before PyTorch 1.6.
    static func checkBinary(path: String, magic: FileMagic) throws -> CheckReport {
        let lower = path.lowercased()
        switch magic {
        case .hdf5:
            var r = try KerasConfig.check(h5: path)
            if !lower.hasSuffix(".h5") && !lower.hasSuffix(".hdf5") {
                r.ir.assumptions.append("an HDF5 file: read as a Keras .h5 model file whatever its name (tf.keras 2.10 to 2.12 saved HDF5 under a .keras name)")
            }
            return r
        case .zip:
            if lower.hasSuffix(".keras") { return try KerasConfig.check(path: path) }
            if torchExtensions.contains(where: lower.hasSuffix) { throw torchFile(path, "a PyTorch zip archive (torch.save or torch.jit.save)") }
            if lower.hasSuffix(".npz") {
                throw ModelError(file: path, line: nil, message: "a NumPy .npz archive (arrays: weights or data), not a model: check the model's summary or model file, and give this file as `--weights` or `--data`")
            }
            let bytes = try KerasConfig.read(path, maxBytes: KerasConfig.maxKerasFileBytes)
            let entries: [ZipEntry]
            do { entries = try Zip.entries(bytes, file: path) } catch let e as DataError { throw KerasConfig.modelError(e, file: path) }
            switch FileMagic.zipContents(entries) {
            case .keras: return try KerasConfig.check(bytes: bytes, file: path, zip: true)
            case .torchScript: throw torchFile(path, "a TorchScript archive (torch.jit.save), whose code modelc does not run")
            case .torchSave: throw torchFile(path, "a torch.save archive (a state_dict or a pickled module)")
            case .other: throw ModelError(file: path, line: nil, message: "a zip archive with neither config.json (a .keras model) nor data.pkl (a PyTorch file)")
            }
        case .pickle:
            throw torchFile(path, "a pickle (torch.save before PyTorch 1.6, or another Python object)")
        }
    }

    static func torchFile(_ path: String, _ what: String) -> ModelError {
        ModelError(file: path, line: nil, message: "\(what): it holds weights, not an architecture modelc reads; describe the network with print(model)'s output or a torchsummary/torchinfo table in a .md or .txt file, check that, and give the compiled binary the weights as `--weights` (a state_dict saved by PyTorch 1.6 or later: torch.save(model.state_dict(), PATH))")
    }

    /// Checks an in-memory document; `path` is used for messages and the default model name.
    public static func check(text: String, path: String) throws -> CheckReport {
        let doc = Document(text: text, path: path)
        let annotations = try AnnotationParser.parse(doc)
        // PyTorch descriptions: a torchsummary or torchinfo table and/or a print(model) repr.
        // A Keras table wins over a repr-like passage in its prose (the repr is then not read at all).
        var summary = try TorchSummary.find(in: doc, skipping: annotations.blockLines)
        if summary == nil, let (t, rows) = try TorchInfo.find(in: doc, skipping: annotations.blockLines) {
            var table = t
            try TorchInfo.layers(rows, into: &table, doc: doc)
            summary = table
        }
        let kerasHeader = summary == nil && doc.lines.enumerated().contains { !annotations.blockLines.contains($0.offset + 1) && ($0.element.has("Layer (type)") || $0.element.has("Layer(type)")) }
        let repr = kerasHeader ? nil : try PyTorchRepr.find(in: doc, skipping: annotations.blockLines)
        if let s = summary {
            // Printed shapes are checked before anything multiplies them (ResourceLimits, issue 6).
            for r in s.rows where ResourceLimits.elements(r.shape) == nil {
                throw doc.error(r.line, "\(r.label): output \(r.shape) has \(ResourceLimits.productText(r.shape)) elements per image; "
                    + "modelc accepts at most \(formatCount(ResourceLimits.maxActivationElements)) (2^26) per layer")
            }
            for r in s.rows where r.params > ResourceLimits.maxParameters {
                throw doc.error(r.line, "\(r.label): parameter count \(formatCount(r.params)) is too large; modelc accepts at most \(formatCount(ResourceLimits.maxParameters)) (2^28) parameters per model")
            }
        }
        if summary != nil || repr != nil {
            if annotations.dataFormat != nil {
                throw doc.error(annotations.inputLine, "input: data_format= applies to Keras tables; PyTorch models are channels-first (N, C, H, W) already")
            }
            var (ir, footer, lines) = try PyTorchBuilder.build(repr: repr, summary: summary, annotations: annotations, document: doc)
            try ResourceLimits.check(ir, document: doc)
            let problems = footer + Verifier.verify(&ir, totalLine: lines[0], trainableLine: lines[1], nonTrainableLine: lines[2])
            let layout = [repr.map { _ in "pytorch-repr" }, summary.map(\.layout)].compactMap { $0 }.joined(separator: "+")
            return CheckReport(ir: ir, ok: problems.isEmpty, problems: problems, layout: layout)
        }
        if annotations.forward != nil {
            throw doc.error(annotations.forwardLine, "forward: applies to PyTorch models (print(model) reprs, torchsummary and torchinfo tables) only")
        }
        // Nested models printed with expand_nested=True: their layers read inline (NestedModels.swift).
        let (flat, nested) = NestedModels.flatten(doc)
        var table = try TableScanner.findTable(in: flat, skipping: annotations.blockLines)
        let masks = try MaskRows.strip(&table, doc: flat)   // Keras 3's NotEqual/Any rows
        if let m = masks, m.impliesMaskZero, annotations.overrides(for: m.source).maskZero == false {
            throw flat.error(annotations.layers.first { $0.matches(m.source) }?.line, "layer '\(m.source)' is annotated mask_zero=false, but the table prints its mask (a NotEqual row)")
        }
        var ir = try IRBuilder.build(table: table, annotations: annotations, document: flat)
        let maskZero = masks?.impliesMaskZero == true || ir.layers.contains { $0.op.isEmbedding && annotations.overrides(for: $0.name).maskZero == true }
        try SequenceMasking.apply(&ir.layers, maskZero: maskZero) { l, m in
            flat.error(l.line, "layer '\(l.name)': \(m)")
        }
        try masks?.verify(ir.layers, doc: flat)
        ir.assumptions += nested.map { "nested model '\($0.name)' (line \($0.line)) read from its expanded layers (expand_nested=True), inline in the chain" }
        ir.assumptions += recurrentAssumptions(ir.layers, layout: table.layout, maskShown: masks != nil, annotations: annotations)
        ir.assumptions += laterTable(after: table, in: flat, skipping: annotations.blockLines).map {
            ["line \($0): another summary table, not read (modelc reads a file's first table; give each model its own file)"]
        } ?? []
        try ResourceLimits.check(ir, document: doc)
        let problems = table.footerProblems + Verifier.verify(&ir, table: table)
        return CheckReport(ir: ir, ok: problems.isEmpty, problems: problems, layout: table.layout)
    }
}

extension Frontend {
    /// The 1-based line of a summary table's header below `table` (its rows and totals), if any:
    /// keras.io's guides print an encoder's table and then the autoencoder's in one block.
    static func laterTable(after table: SummaryTable, in doc: Document, skipping: Set<Int>) -> Int? {
        let end = ([table.headerLine, table.totalLine, table.trainableLine, table.nonTrainableLine].compactMap { $0 }
                   + table.rows.map(\.line)).max() ?? table.headerLine
        return doc.lines.indices.dropFirst(end).first { !skipping.contains($0 + 1) && TableScanner.isHeader(doc.lines[$0]) }.map { $0 + 1 }
    }

    /// What a table cannot show about its recurrent layers, said rather than silently assumed:
    /// - a classic Keras 2 table (standalone Keras or tf.keras 1.x) may come from Keras <= 2.2.5,
    ///   whose LSTM and GRU used hard_sigmoid gates (sigmoid from 2.3.0; IR/RecurrentGates.swift);
    /// - an Embedding's mask_zero, which a Sequential table never prints (Keras 3's functional
    ///   tables print it as NotEqual rows: `maskShown`);
    /// - dropout inside the cells (IR/RecurrentCellDropout.swift), which no table prints;
    /// - the cells' activation, tanh unless annotated relu (IR/RecurrentGates.swift).
    static func recurrentAssumptions(_ layers: [Layer], layout: String, maskShown: Bool, annotations: Annotations) -> [String] {
        var out: [String] = []
        for l in layers {
            guard case .recurrent(let a) = l.op, a.cell != .simpleRNN, layout.hasPrefix("keras2"),
                  annotations.overrides(for: l.name).recurrentActivation == nil else { continue }
            out.append("\(l.name): recurrent_activation=sigmoid (Keras 2.3.0 and later; Keras 2.2.5 and earlier defaulted to "
                       + "hard_sigmoid: annotate `layer \(l.name): recurrent_activation=hard_sigmoid` for a model trained with it)")
        }
        let plain = layers.filter { if case .recurrent(let a) = $0.op { return a.cellDropout == nil && a.torch == nil }; return false }
        if !plain.isEmpty {
            out.append("\(plain.map(\.name).joined(separator: ", ")): no dropout inside the cell in training (a table does not show "
                       + "dropout or recurrent_dropout: annotate `layer \(plain[0].name): dropout=0.2 recurrent_dropout=0.2` for a model built with them)")
        }
        let tanh = layers.filter { if case .recurrent(let a) = $0.op { return a.activation == nil && a.torch == nil }; return false }
        if !tanh.isEmpty {
            out.append("\(tanh.map(\.name).joined(separator: ", ")): activation tanh (a table does not show a cell's activation: "
                       + "annotate `layer \(tanh[0].name): activation=relu` for a relu cell)")
        }
        let readByRecurrent = layers.contains { if case .recurrent = $0.op { return true }; return false }
        for l in layers where l.op.isEmbedding && !maskShown && readByRecurrent && annotations.overrides(for: l.name).maskZero == nil {
            out.append("\(l.name): mask_zero=false (the table does not show it; annotate `layer \(l.name): mask_zero=true` "
                       + "if the model masks token id 0)")
        }
        return out
    }
}

/// The result of parsing + inference + verification.
public struct CheckReport {
    /// Fully resolved IR.
    public var ir: ModelIR
    /// Every layer count and every declared total matches.
    public var ok: Bool
    /// Mismatches (non-fatal: the report is still produced).
    public var problems: [ModelError]
    /// Which table layout was recognized (e.g. "keras2", "tf.keras", "keras3-heavy").
    public var layout: String

    public init(ir: ModelIR, ok: Bool, problems: [ModelError], layout: String = "") {
        self.ir = ir; self.ok = ok; self.problems = problems; self.layout = layout
    }

    /// The normalized table + totals + assumptions, as `modelc check` prints it.
    public func text() -> String { ReportText.render(self) }

    /// The `--json` object (issue 2 key names).
    public func json() -> String { ReportJSON.render(self) }
}
