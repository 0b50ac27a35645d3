// MNISTApp: a compiled model used from Swift code, no modelc command line.
//
//   swift run MNISTApp                          train briefly on the MNIST sample shipped with modelc
//   swift run MNISTApp --checkpoint C.ckpt      load a checkpoint (or --weights W.npz) instead
//   swift run MNISTApp --save C.ckpt            also write the trained parameters
//
// Then it evaluates on the sample's 1,000 test images, classifies them again through `predict`
// (the two accuracies must agree), and prints the top 3 classes of the first few. Exits 1 on any
// error, and when the default training run scores below 0.75 (CI runs it so).

import Foundation
import ModelcRuntime

func value(_ flag: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func loadOrTrain() throws -> MnistMlp {
    if let w = value("--weights") { return try MnistMlp(weights: URL(fileURLWithPath: w)) }
    if let c = value("--checkpoint") { return try MnistMlp(checkpoint: URL(fileURLWithPath: c)) }
    let epochs = Int(value("--epochs") ?? "") ?? 2
    let images = try LabeledImages.sample("mnist", split: "train", limit: Int(value("--limit") ?? "") ?? 3000, for: MnistMlp.self)
    print("training \(MnistMlp.info.name) (\(MnistMlp.info.parameterCount) parameters) on \(images.count) sample images, \(epochs) epochs")
    let model = MnistMlp(seed: 1)
    try model.train(on: images, epochs: epochs) { event in
        if case .epoch(let r) = event {
            print(String(format: "  epoch %d  loss %.4f  accuracy %.4f  val_accuracy %.4f  %.1fs",
                         r.epoch, r.loss, r.accuracy, r.valAccuracy ?? .nan, r.seconds))
        }
    }
    return model
}

do {
    let model = try loadOrTrain()
    if let s = value("--save") { try model.save(checkpoint: URL(fileURLWithPath: s)) }
    let test = try LabeledImages.sample("mnist", split: "test", for: MnistMlp.self)
    let metrics = try model.evaluate(on: test)
    let predictions = try model.predict(pixels: (0..<test.count).map(test.image), top: 3)
    let correct = zip(predictions, test.labels).filter { $0.best.index == Int($1) }.count
    print(String(format: "test accuracy %.4f (evaluate), %.4f (predict, %d of %d)", metrics.accuracy,
                 Double(correct) / Double(test.count), correct, test.count))
    for (i, p) in predictions.prefix(5).enumerated() {
        let top = p.top.map { String(format: "%@ %.3f", $0.name, $0.probability) }.joined(separator: ", ")
        print("  image \(i): label \(MnistMlp.classNames[Int(test.labels[i])]), top 3: \(top)")
    }
    let one = try model.predict(pixels: test.image(0))
    let gap = zip(one.probabilities, predictions[0].probabilities).map { abs($0 - $1) }.max() ?? 0
    guard gap < 1e-5, correct == metrics.correct else {
        print("error: predict and evaluate disagree"); exit(1)
    }
    // trained here with the defaults (CI): an MLP that learned nothing would score about 0.1
    let trainedHere = value("--weights") == nil && value("--checkpoint") == nil && value("--epochs") == nil && value("--limit") == nil
    guard !trainedHere || metrics.accuracy >= 0.75 else { print("error: test accuracy below 0.75 after training"); exit(1) }
} catch {
    print("error: \(error)")
    exit(1)
}
