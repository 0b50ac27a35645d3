// `train`'s progress bar, drawn on stderr only when it is a terminal (Console.isTTY).

import Foundation

/// `epoch 3/10 [########............] 24000/54000  2510 img/s  ETA 0:12  loss 0.1234`
final class ProgressBar {
    private var lastDraw = Date.distantPast
    private var drawn = false
    let enabled: Bool
    init(enabled: Bool) { self.enabled = enabled }

    func update(label: String, done: Int, total: Int, seconds: Double, extra: String) {
        guard enabled else { return }
        let now = Date()
        guard done == total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let width = 24
        let filled = total > 0 ? min(width, done * width / total) : width
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\r\(label) [\(bar)] \(done)/\(total)  \(Int(rate)) img/s  ETA \(formatDuration(eta))  \(extra)\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func clear() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drawn = false
    }
}

func formatDuration(_ s: Double) -> String {
    let t = Int(s.rounded())
    return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
}
