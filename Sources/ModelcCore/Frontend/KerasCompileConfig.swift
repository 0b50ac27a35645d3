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
        // the keys are the canonical spellings; the sidecar may use either (lr or learning_rate)
        let taken = keys.filter { !ann.trainingKeys.contains($0.0) && !ann.trainingKeys.contains(SemanticDefaults.alias($0.0)) }
        let read = taken.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        if !taken.isEmpty {
            try AnnotationParser.trainDirective(read, line: 1, doc: Document(text: "train: " + read, path: file), into: &ann)
        }
        guard !keys.isEmpty || !notes.isEmpty else { return nil }
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
        // a key's value as the Float modelc trains with (a schedule or other non-number: a note)
        func number(_ key: String) throws -> Float? {
            guard let n = try cfg?.present(key) else { return nil }
            guard case .number = n.value else { notes.append("\(key) \(n.value.isObject ? "(a schedule)" : "")"); return nil }
            return try n.float()
        }
        func setting(_ key: String, _ configKey: String) throws -> (String, String)? { try number(configKey).map { (key, "\($0)") } }
        func flag(_ key: String) throws -> Bool { try cfg?.present(key).map { n -> Bool in if case .bool(let b) = n.value { return b }; return false } ?? false }
        for key in ["clipnorm", "clipvalue", "global_clipnorm"] where try number(key) != nil { notes.append("\(key) (gradient clipping)") }
        if try flag("use_ema") { notes.append("use_ema") }
        if let d = try number("decay"), d != 0 { notes.append("decay=\(d) (Keras 2's learning-rate decay)") }
        var keys: [(String, String)] = []
        let lr = try setting("lr", "learning_rate") ?? setting("lr", "lr")
        switch name {
        case "sgd":
            let m = try number("momentum") ?? 0
            keys = [("optimizer", m == 0 ? "sgd" : try flag("nesterov") ? "nesterov" : "momentum")] + (m == 0 ? [] : [("momentum", "\(m)")])
        case "adam", "adamw":
            keys = [("optimizer", name)] + [try setting("beta1", "beta_1"), try setting("beta2", "beta_2"), try setting("epsilon", "epsilon")].compactMap { $0 }
            if name == "adamw", let wd = try setting("weight_decay", "weight_decay") { keys.append(wd) }
            if try flag("amsgrad") { notes.append("amsgrad") }
        case "rmsprop":
            keys = [("optimizer", "rmsprop")] + [try setting("rho", "rho"), try setting("epsilon", "epsilon")].compactMap { $0 }
            if let m = try number("momentum"), m != 0 { notes.append("RMSprop momentum=\(m)") }
            if try flag("centered") { notes.append("centered RMSprop") }
        case "adadelta":
            keys = [("optimizer", "adadelta")] + [try setting("rho", "rho"), try setting("epsilon", "epsilon")].compactMap { $0 }
        default:
            notes.append("optimizer \(cls) (modelc trains with sgd, momentum, nesterov, adam, adamw, rmsprop or adadelta)")
            return []
        }
        return keys + [lr].compactMap { $0 }
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
