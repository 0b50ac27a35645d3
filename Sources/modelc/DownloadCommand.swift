// `modelc download NAME [--dir DIR] [--base URL]`: fetch a dataset's official files.
// Default directory: ./data/NAME (the third place dataset resolution looks).
// Exit codes: 0 ok, 1 download or verification error, 2 usage error.
import Foundation
import ModelcData
import ModelcDownload

enum DownloadCommand {
    static let usage = """
    usage: modelc download NAME [--dir DIR] [--base URL]

    Downloads the official files of dataset NAME (mnist, fashion-mnist, kmnist, kannada-mnist,
    dig-mnist, cifar10) into DIR (default: ./data/NAME), resuming interrupted downloads (.part
    files), checking published MD5 checksums and installing each file atomically (the CIFAR-10
    archive is also unpacked into DIR/cifar-10-batches-bin).
      --dir DIR    destination directory
      --base URL   fetch from this mirror instead (also: $MODELC_DOWNLOAD_BASE)
    """

    static func run(_ args: [String]) -> Int32 {
        var name: String?
        var dir: String?
        var base: String?
        var i = 0
        func fail(_ msg: String) -> Int32 {
            FileHandle.standardError.write(Data("modelc download: \(msg)\n\n\(usage)\n".utf8))
            return 2
        }
        while i < args.count {
            let a = args[i]
            switch a {
            case "--dir", "--base":
                guard i + 1 < args.count else { return fail("\(a) needs a value") }
                if a == "--dir" { dir = args[i + 1] } else { base = args[i + 1] }
                i += 2
            case "-h", "--help":
                print(usage); return 0
            default:
                if a.hasPrefix("-") { return fail("unknown option '\(a)'") }
                if name != nil { return fail("unexpected argument '\(a)'") }
                name = a
                i += 1
            }
        }
        guard let name else { return fail("missing dataset NAME") }
        guard Datasets.names.contains(name) else {
            return fail("unknown dataset '\(name)' (expected one of: \(Datasets.names.joined(separator: ", ")))")
        }
        let target = dir ?? "data/\(name)"
        let downloader = Downloader()
        let tty = isatty(2) != 0
        if tty {
            downloader.progress = { done, total in
                let mb = { (v: Int64) in String(format: "%.1f", Double(v) / 1_048_576) }
                let line = total.map { "\r  \(mb(done)) / \(mb($0)) MB  \(Int(Double(done) * 100 / Double(max($0, 1))))%  " } ?? "\r  \(mb(done)) MB  "
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
        downloader.log = { FileHandle.standardError.write(Data("\(tty ? "\n" : "")modelc download: \($0)\n".utf8)) }
        do {
            _ = try DatasetDownload.run(dataset: name, into: target, baseURL: base, downloader: downloader,
                                        say: { line in
                                            if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                                            print(line)
                                        })
            print("done: use --data \(target) (or put it at ./data/\(name), or set MODELC_DATA)")
            return 0
        } catch {
            if tty { FileHandle.standardError.write(Data("\n".utf8)) }
            FileHandle.standardError.write(Data("modelc download: error: \(error)\n".utf8))
            return 1
        }
    }
}
