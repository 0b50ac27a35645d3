// The generated binary's command line: `<binary> train|eval|predict|export|summary|bench`.
// Exit codes: 0 ok, 1 model/data/checkpoint error, 2 usage error, 130 interrupted (state saved).

import Foundation
import ModelcData
import ModelcModelFiles
import ModelcRuntime

public enum ModelcApp {
    public static func main<M: CompiledModel>(_ model: M.Type) -> Never {
        let program = (CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent }) ?? M.info.name
        let code = run(model, arguments: Array(CommandLine.arguments.dropFirst()), console: .standard, program: program)
        exit(code)
    }

    public static func usage(_ info: ModelInfo, program: String) -> String {
        """
        usage: \(program) <command> [flags]        (model \(info.name), \(info.inputHeight)x\(info.inputWidth)x\(info.inputChannels) -> \(info.classCount) classes)

        commands:
          train    [--data DIR] [--dataset NAME] [--epochs N] [--batch N] [--lr X] [--optimizer NAME] [--loss NAME]
                   [--weight-decay X] [--schedule constant|step:E:G|cosine|onecycle] [--val-split X] [--seed N]
                   [--checkpoint PATH] [--resume] [--weights W] [--augment-shift N] [--augment-rotate DEG]
                   [--early-stopping none|patience:N|drop-after:N] [--limit N] [--split-seed N] [--json] [--threads N]
                   [--resplit TRAIN:VAL:TEST] [--report DIR] [--test-each-epoch]
                   image folders (--data DIR/<class>/*.png|pgm|ppm): [--resize] [--crop] [--strict-images] [--cache-dir DIR]
                   arrays (--data FILE.npz with x, y[, x_test, y_test] | --data FILE.csv): [--target-columns K]
          eval     [--checkpoint PATH | --weights W] [--split test|train|val] [--data DIR] [--dataset NAME] [--limit N] [--json]
                   [--resplit TRAIN:VAL:TEST] [--split-seed N] [--report DIR] [--threads N]
                   [--resize] [--crop] [--strict-images] [--cache-dir DIR] [--loss NAME] [--target-columns K]
          predict  [--checkpoint PATH | --weights W] (IMAGE.png|.pgm|.ppm ... | --idx FILE --index N | --data FILE.npz|.csv [--index N]) [--top K] [--invert] [--resize] [--crop] [--dataset NAME] [--json]
          export   --weights OUT.npz|OUT.safetensors|OUT.weights.h5 [--checkpoint PATH | --from W]
          summary  [--json]
          bench    [--batch N] [--threads N] [--seconds S] [--repeats N] [--only train|infer|latency] [--no-peak] [--json]   (prints JSON)
        --loss: \(LossKind.namesList) (crossentropy: the head's, softmax or sigmoid)
        --weights W reads \(WeightsReader.acceptedExtensions) (Keras .h5: Keras 2 full model or weights only)
        """
    }

    /// Runs one command; returns the exit code (never exits; used by `main` and tests).
    public static func run<M: CompiledModel>(_ model: M.Type, arguments: [String], console: Console, program: String = "model") -> Int32 {
        guard let command = arguments.first else {
            console.err(usage(M.info, program: program))
            return 2
        }
        let rest = Array(arguments.dropFirst())
        do {
            switch command {
            case "train": try TrainCommand<M>.run(rest, console: console, program: program)
            case "eval": try EvalCommand<M>.run(rest, console: console)
            case "predict": try PredictCommand<M>.run(rest, console: console)
            case "export": try ExportCommand<M>.run(rest, console: console)
            case "summary": try SummaryCommand<M>.run(rest, console: console)
            case "bench": try BenchCommand<M>.run(rest, console: console)
            case "help", "--help", "-h": console.out(usage(M.info, program: program))
            default:
                throw UsageError("unknown command '\(command)'\n\n" + usage(M.info, program: program))
            }
            return 0
        } catch let e as UsageError {
            console.err("\(program): \(e)")
            return 2
        } catch let e as TrainingStop {
            console.err("\(program): \(e.message(program: program))")
            if case .interrupted = e { return 130 }
            return 1
        } catch {
            console.err("\(program): error: \(error)")
            return 1
        }
    }
}
