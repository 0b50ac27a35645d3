// Checkpoint files: parameters (including BatchNorm moving statistics), optimizer state,
// position in the run, best-so-far and history, in one documented binary format.
//
// Layout (all integers little-endian; str = u32 byte count + UTF-8 bytes):
//   0   8 bytes  magic "MODELCKP"
//   8   u32      format version (1)
//   12  u64      payload length in bytes
//   20  u32      CRC-32 (IEEE) of the payload
//   24  payload:
//       str model name, str model fingerprint
//       u64 parameter count P
//       u32 tensor count T; T x (str key, u32 rank, rank x u64 dim, u64 offset, u8 trainable)
//       P x f32 parameters (flat buffer, CompiledModel layout)
//       u8 has-training-state; if 1:
//         u32 N; N x (str key, str value)                          run settings
//         u64 epochs done, u64 step in epoch, u64 global step
//         f64 partial loss sum, u64 partial correct, u64 partial seen, f64 partial seconds
//         f64 best val accuracy (NaN: none), u64 best epoch, f64 previous val accuracy (NaN: none),
//         u64 epochs without improvement, u8 stopped
//         u32 H; H x (u64 epoch, f64 loss, f64 accuracy, f64 val loss, f64 val accuracy (NaN: none),
//                     f64 seconds, f64 images per second)
//         str optimizer, u64 optimizer iterations, u32 S; S x (u64 n, n x f32)   optimizer slots
// Files are written atomically (temp file, fsync, rename), so a crash leaves the old file.

import Foundation
import ModelcData

public struct Checkpoint {
    public static let frame = BinaryFrame(magic: "MODELCKP", version: 1, kind: "checkpoint")

    public struct TensorEntry: Equatable, Sendable {
        public var key: String
        public var shape: [Int]
        public var offset: Int
        public var trainable: Bool
    }

    public var modelName: String
    public var fingerprint: String
    public var tensors: [TensorEntry]
    public var parameters: [Float]
    public var training: TrainingSnapshot?

    public init(modelName: String, fingerprint: String, tensors: [TensorEntry], parameters: [Float], training: TrainingSnapshot?) {
        self.modelName = modelName; self.fingerprint = fingerprint; self.tensors = tensors
        self.parameters = parameters; self.training = training
    }

    /// Snapshot of a model's parameters (and, optionally, training state).
    public init<M: CompiledModel>(model: M, training: TrainingSnapshot?) {
        let info = M.info
        self.modelName = info.name
        self.fingerprint = info.fingerprint
        self.tensors = info.tensors.map { TensorEntry(key: $0.key, shape: $0.kerasShape, offset: $0.offset, trainable: $0.trainable) }
        self.parameters = Array(UnsafeBufferPointer(start: model.parameters, count: info.parameterCount))
        self.training = training
    }

    // MARK: encoding

    public func encode() -> [UInt8] {
        var w = BinaryWriter()
        w.string(modelName); w.string(fingerprint)
        w.int(parameters.count)
        w.u32(UInt32(tensors.count))
        for t in tensors {
            w.string(t.key); w.u32(UInt32(t.shape.count))
            for d in t.shape { w.int(d) }
            w.int(t.offset); w.u8(t.trainable ? 1 : 0)
        }
        w.floats(parameters)
        if let s = training {
            w.u8(1)
            w.u32(UInt32(s.config.count))
            for (k, v) in s.config { w.string(k); w.string(v) }
            let p = s.progress
            w.int(p.epochsDone); w.int(p.stepInEpoch); w.int(p.globalStep)
            w.f64(p.partialLossSum); w.int(p.partialCorrect); w.int(p.partialSeen); w.f64(p.partialSeconds)
            w.f64(p.bestValAccuracy ?? .nan); w.int(p.bestEpoch); w.f64(p.previousValAccuracy ?? .nan)
            w.int(p.epochsWithoutImprovement); w.u8(p.stopped ? 1 : 0)
            w.u32(UInt32(p.history.count))
            for r in p.history {
                w.int(r.epoch); w.f64(r.loss); w.f64(r.accuracy); w.f64(r.valLoss ?? .nan)
                w.f64(r.valAccuracy ?? .nan); w.f64(r.seconds); w.f64(r.imagesPerSecond)
            }
            w.string(s.optimizer); w.int(s.optimizerIterations)
            w.u32(UInt32(s.optimizerSlots.count))
            for slot in s.optimizerSlots { w.int(slot.count); w.floats(slot) }
        } else {
            w.u8(0)
        }
        return Checkpoint.frame.encode(w.bytes)
    }

    public func write(to path: String) throws {
        do { try AtomicFile.write(encode(), to: path) }
        catch let e as DataError { throw e }
        catch { throw RuntimeError(file: path, "cannot write checkpoint: \(error)") }
    }

    // MARK: decoding

    public static func decode(_ bytes: [UInt8], file: String) throws -> Checkpoint {
        var r = try frame.reader(bytes, file: file)
        let name = try r.string("model name")
        let fingerprint = try r.string("model fingerprint")
        let parameterCount = try r.count("parameter count", limit: r.remaining / 4)
        let tensorCount = Int(try r.u32("tensor count"))
        var tensors: [TensorEntry] = []
        for i in 0..<tensorCount {
            let key = try r.string("key of tensor \(i)")
            let rank = Int(try r.u32("rank of tensor \(key)"))
            guard rank <= 8 else { throw r.fail("tensor \(key) has rank \(rank), expected at most 8") }
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(try r.count("dimension of tensor \(key)", limit: parameterCount)) }
            let offset = try r.count("offset of tensor \(key)", limit: parameterCount)
            let trainable = try r.u8("trainable flag of \(key)") != 0
            tensors.append(TensorEntry(key: key, shape: shape, offset: offset, trainable: trainable))
        }
        let parameters = try r.floats(parameterCount, "\(parameterCount) parameters")
        var training: TrainingSnapshot? = nil
        if try r.u8("training-state flag") == 1 {
            let n = Int(try r.u32("setting count"))
            var config: [(String, String)] = []
            for _ in 0..<n { config.append((try r.string("setting name"), try r.string("setting value"))) }
            var p = TrainingProgress()
            p.epochsDone = try r.count("epochs done", limit: 1 << 40)
            p.stepInEpoch = try r.count("step in epoch", limit: 1 << 40)
            p.globalStep = try r.count("global step", limit: 1 << 50)
            p.partialLossSum = try r.f64("partial loss sum")
            p.partialCorrect = try r.count("partial correct", limit: 1 << 50)
            p.partialSeen = try r.count("partial seen", limit: 1 << 50)
            p.partialSeconds = try r.f64("partial seconds")
            let best = try r.f64("best val accuracy")
            p.bestValAccuracy = best.isNaN ? nil : best
            p.bestEpoch = try r.count("best epoch", limit: 1 << 40)
            let prev = try r.f64("previous val accuracy")
            p.previousValAccuracy = prev.isNaN ? nil : prev
            p.epochsWithoutImprovement = try r.count("epochs without improvement", limit: 1 << 40)
            p.stopped = try r.u8("stopped flag") != 0
            let h = Int(try r.u32("history length"))
            try r.need(h * 56, "\(h) history records")
            for _ in 0..<h {
                let e = try r.count("history epoch", limit: 1 << 40)
                let loss = try r.f64("loss"), acc = try r.f64("accuracy"), vl = try r.f64("val loss")
                let va = try r.f64("val accuracy"), sec = try r.f64("seconds"), ips = try r.f64("images per second")
                p.history.append(EpochRecord(epoch: e, loss: loss, accuracy: acc, valLoss: vl.isNaN ? nil : vl,
                                             valAccuracy: va.isNaN ? nil : va, seconds: sec, imagesPerSecond: ips))
            }
            let optimizer = try r.string("optimizer name")
            let iterations = try r.count("optimizer iterations", limit: 1 << 50)
            let slotCount = Int(try r.u32("optimizer slot count"))
            guard slotCount <= 8 else { throw r.fail("optimizer slot count is \(slotCount), expected at most 8") }
            var slots: [[Float]] = []
            for i in 0..<slotCount {
                let len = try r.count("length of optimizer slot \(i)", limit: r.remaining / 4)
                slots.append(try r.floats(len, "optimizer slot \(i)"))
            }
            training = TrainingSnapshot(config: config, progress: p, optimizer: optimizer, optimizerIterations: iterations, optimizerSlots: slots)
        }
        guard r.remaining == 0 else { throw r.fail("expected the end of the checkpoint, found \(r.remaining) more bytes") }
        return Checkpoint(modelName: name, fingerprint: fingerprint, tensors: tensors, parameters: parameters, training: training)
    }

    public static func read(path: String) throws -> Checkpoint {
        return try decode(try FileIO.read(path: path), file: path)
    }

    // MARK: matching a model

    /// Throws unless this checkpoint was written by the same model (name, fingerprint, tensors).
    public func checkMatches(_ info: ModelInfo, file: String) throws {
        var differences: [String] = []
        if modelName != info.name { differences.append("model name '\(modelName)' there, '\(info.name)' here") }
        if fingerprint != info.fingerprint { differences.append("fingerprint \(fingerprint) there, \(info.fingerprint) here") }
        if parameters.count != info.parameterCount { differences.append("\(parameters.count) parameters there, \(info.parameterCount) here") }
        let mine = Dictionary(info.tensors.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let theirs = Set(tensors.map(\.key))
        for t in tensors {
            if let m = mine[t.key] {
                if m.kerasShape != t.shape { differences.append("tensor \(t.key) has shape \(t.shape) there, \(m.kerasShape) here") }
                else if m.offset != t.offset { differences.append("tensor \(t.key) is at offset \(t.offset) there, \(m.offset) here") }
            } else {
                differences.append("tensor \(t.key) exists there but not in this model")
            }
        }
        for t in info.tensors where !theirs.contains(t.key) { differences.append("tensor \(t.key) is missing there") }
        guard differences.isEmpty else {
            let shown = differences.prefix(8).joined(separator: "; ")
            let more = differences.count > 8 ? "; and \(differences.count - 8) more differences" : ""
            throw RuntimeError(file: file, "checkpoint is for another model: \(shown)\(more)")
        }
    }

    /// Copies the parameters into the model (after `checkMatches`).
    public func load<M: CompiledModel>(into model: M) {
        let n = min(parameters.count, M.info.parameterCount)
        for i in 0..<n { model.parameters[i] = parameters[i] }
    }
}
