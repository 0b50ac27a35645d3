// A Keras model file's training settings: Keras 3's `compile_config` (in config.json) or Keras
// 2's `training_config` (the .h5 root attribute), read as a `train:` directive, so that `compile`
// trains with the optimizer, learning rate and loss the model was trained with. FILE.modelc's
// own `train:` keys override them. What modelc's optimizers and losses do not compute (Nadam,
// a learning-rate schedule, clipnorm, AMSGrad, a loss from logits, several outputs' losses) is
// left to the defaults, and a note names it.
//
// Before: a model file's JSON root (Keras 3) or its training_config JSON (Keras 2), and the
//         sidecar's annotations.
// After:  the annotations with the file's settings as `train:` keys where the sidecar sets none,
//         and the assumption that says which came from the file.

enum KerasCompileConfig {
    /// The sidecar's annotations with the file's training settings added (`config`: the
    /// compile_config / training_config node, nil when the file has none).
    static func apply(_ config: JNode?, to ann: inout Annotations, file: String) throws -> String? {
        guard let config, config.value.isObject else { return nil }
        var notes: [String] = []
        var keys = try optimizer(config, notes: &notes)
        keys += try loss(config, notes: &notes)
        let sidecar = ann.trainingKeys.union(ann.trainingKeys.map(SemanticDefaults.alias))
        let taken = keys.filter { !sidecar.contains($0.0) && !sidecar.contains(SemanticDefaults.alias($0.0)) }
        if !taken.isEmpty {
            let text = taken.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            try AnnotationParser.trainDirective(text, line: 1, doc: Document(text: "train: " + text, path: file), into: &ann)
        }
        guard !keys.isEmpty || !notes.isEmpty else { return nil }
        let read = taken.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        return "train: \(read.isEmpty ? "nothing" : read) from the file's compile settings"
            + (taken.count < keys.count ? " (FILE.modelc's train: keys override the rest)" : "")
            + (notes.isEmpty ? "" : "; not reproduced: " + notes.joined(separator: "; "))
    }

    /// optimizer, lr and the optimizer's own keys; a class modelc does not train with is a note.
    static func optimizer(_ c: JNode, notes: inout [String]) throws -> [(String, String)] {
        guard let node = try c.present("optimizer") ?? c.present("optimizer_config") else { return [] }
        var cls = "", cfg: JNode? = nil
        if case .string(let s) = node.value { cls = s } else {
            cls = try node.required("class_name").string()
            cfg = try node.present("config")
        }
        // tf.keras 2.11+ names its optimizers "Custom>Adam"
        let name = cls.lowercased().replacingOccurrences(of: "custom>", with: "").replacingOccurrences(of: "keras.optimizers.", with: "")
        func number(_ key: String) throws -> String? {
            guard let n = try cfg?.present(key) else { return nil }
            guard case .number = n.value else { notes.append("\(key) \(n.value.isObject ? "(a schedule)" : "")"); return nil }
            return "\(try n.float())"   // the Float modelc trains with, in its shortest form
        }
        func flag(_ key: String) throws -> Bool { try cfg?.present(key).map { n -> Bool in if case .bool(let b) = n.value { return b }; return false } ?? false }
        for key in ["clipnorm", "clipvalue", "global_clipnorm"] where try number(key) != nil { notes.append("\(key) (gradient clipping)") }
        if try flag("use_ema") { notes.append("use_ema") }
        if let d = try number("decay"), try cfg?.present("decay")?.float() != 0 { notes.append("decay=\(d) (Keras 2's learning-rate decay)") }
        var keys: [(String, String)] = []
        let lr = try number("learning_rate") ?? number("lr")
        switch name {
        case "sgd":
            let m = try number("momentum"), still = try cfg?.present("momentum")?.float() ?? 0 == 0
            keys = [("optimizer", try flag("nesterov") && !still ? "nesterov" : still ? "sgd" : "momentum")] + (still ? [] : [("momentum", m!)])
        case "adam", "adamw":
            keys = [("optimizer", name)] + [("beta1", try number("beta_1")), ("beta2", try number("beta_2")), ("epsilon", try number("epsilon"))].compactMap { k, v in v.map { (k, $0) } }
            if name == "adamw", let wd = try number("weight_decay") { keys.append(("weight_decay", wd)) }
            if try flag("amsgrad") { notes.append("amsgrad") }
        case "rmsprop":
            keys = [("optimizer", "rmsprop")] + [("rho", try number("rho")), ("epsilon", try number("epsilon"))].compactMap { k, v in v.map { (k, $0) } }
            if let m = try number("momentum"), try cfg?.present("momentum")?.float() != 0 { notes.append("RMSprop momentum=\(m)") }
            if try flag("centered") { notes.append("centered RMSprop") }
        case "adadelta":
            keys = [("optimizer", "adadelta")] + [("rho", try number("rho")), ("epsilon", try number("epsilon"))].compactMap { k, v in v.map { (k, $0) } }
        default:
            notes.append("optimizer \(cls) (modelc trains with sgd, momentum, nesterov, adam, adamw, rmsprop or adadelta)")
            return []
        }
        return keys + (lr.map { [("lr", $0)] } ?? [])
    }

    /// loss: one named loss modelc computes (not from logits); anything else is a note.
    static func loss(_ c: JNode, notes: inout [String]) throws -> [(String, String)] {
        guard let node = try c.present("loss") else { return [] }
        var name = ""
        switch node.value {
        case .string(let s): name = s
        case .object:
            guard let cls = try node.present("class_name") else { notes.append("a loss per output"); return [] }
            let clsName = try cls.string()
            // a loss function (not a Loss object): {"class_name": "function", "config": "mse"}
            if clsName == "function", let f = try node.present("config"), case .string(let s) = f.value { name = s; break }
            if let cfg = try node.present("config"), cfg.value.isObject,
               try cfg.present("from_logits").map({ n -> Bool in if case .bool(let b) = n.value { return b }; return false }) ?? false {
                notes.append("loss \(clsName) from logits"); return []
            }
            let classes = ["BinaryCrossentropy": "binary_crossentropy", "CategoricalCrossentropy": "categorical_crossentropy",
                           "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy", "MeanSquaredError": "mse", "MeanAbsoluteError": "mae"]
            name = classes[clsName] ?? clsName
        default:
            notes.append("a loss per output"); return []
        }
        guard let kind = LossKind(name: name.lowercased()), kind != .crossEntropy, kind != .multiMargin else {
            notes.append("loss \(name) (modelc computes \(LossKind.namesList))"); return []
        }
        // a cross-entropy as modelc's crossentropy, the one that fits the head and the data
        // (softmax: categorical on one-hot targets, sparse on labels; sigmoid: binary), which is
        // Keras's on the targets it took; so labeled data trains a categorical_crossentropy model
        return [("loss", kind == .meanSquaredError || kind == .meanAbsoluteError ? kind.rawValue : LossKind.crossEntropy.rawValue)]
    }
}
