// Shared plot geometry: "nice" tick values, linear scales, axis drawing, the palette and the
// sequential color scale of the heat maps.

import ModelcData

public enum ReportPalette {
    /// Colors of the splits, consistent across every plot and the HTML.
    public static func color(split: String) -> String {
        switch split.lowercased() {
        case "train", "training": return "#1f6fb4"
        case "val", "validation", "valid": return "#e8710a"
        case "test": return "#2a9d3f"
        default:
            let others = ["#7b4fb8", "#8c564b", "#d1479b", "#5f6b7a"]
            return others[Int(CRC32.checksum(Array(split.utf8)) % UInt32(others.count))]
        }
    }
    public static let wrong = "#d62728"
    public static let grid = "#e6e6e6"
    public static let axis = "#555555"
    public static let text = "#222222"
    public static let muted = "#666666"

    /// Sequential blue scale for t in 0...1 (white to dark blue), as "#rrggbb".
    public static func blues(_ t: Double) -> String {
        interpolate([(247, 251, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)], t)
    }

    static func interpolate(_ stops: [(Double, Double, Double)], _ t: Double) -> String {
        let u = t.isFinite ? max(0, min(1, t)) : 0
        let pos = u * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(pos))
        let f = pos - Double(i)
        let a = stops[i], b = stops[i + 1]
        return hex(a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
    }

    /// Sequential red scale for t in 0...1 (pale to dark red), used for the off-diagonal
    /// (error) cells of confusion matrices.
    public static func reds(_ t: Double) -> String {
        interpolate([(255, 245, 240), (252, 187, 161), (251, 106, 74), (203, 24, 29), (103, 0, 13)], t)
    }

    /// Text color readable on `reds(t)`.
    public static func onReds(_ t: Double) -> String { t > 0.55 ? "#ffffff" : "#1a1a1a" }

    /// Background of an empty (zero) confusion cell.
    public static let emptyCell = "#f6f8fa"

    /// Colors of a confusion cell: the diagonal in blues by its share of the row; errors in reds
    /// by their share of the row relative to `maxErrorShare` (the largest error share in the
    /// matrix), starting from a visible pale red so a single error never looks like zero.
    public static func confusionCell(count: Int, share: Double, diagonal: Bool, maxErrorShare: Double) -> (fill: String, text: String) {
        if count == 0 { return (emptyCell, "#a8b0b8") }
        if diagonal { return (blues(share), onBlues(share)) }
        let t = errorShade(maxErrorShare > 0 ? min(1, share / maxErrorShare) : 0)
        return (reds(t), onReds(t))
    }

    /// Position on the red scale of an error cell whose share is `ratio` of the largest error share.
    public static func errorShade(_ ratio: Double) -> Double { 0.12 + 0.63 * ratio }

    /// Largest share of its row among the off-diagonal cells of `confusion`.
    public static func maxErrorShare(_ confusion: [[Int]]) -> Double {
        var m = 0.0
        for (r, row) in confusion.enumerated() {
            let sum = row.reduce(0, +)
            guard sum > 0 else { continue }
            for (c, v) in row.enumerated() where c != r { m = max(m, Double(v) / Double(sum)) }
        }
        return m
    }

    /// Text color readable on `blues(t)`.
    public static func onBlues(_ t: Double) -> String { t > 0.5 ? "#ffffff" : "#1a1a1a" }

    static func hex(_ r: Double, _ g: Double, _ b: Double) -> String {
        let digits = Array("0123456789abcdef")
        var s = "#"
        for v in [r, g, b] {
            let n = Int(max(0, min(255, v.rounded())))
            s.append(digits[n >> 4]); s.append(digits[n & 15])
        }
        return s
    }
}

/// A linear map from a data interval to a pixel interval.
public struct ReportScale: Sendable {
    public var domain: (Double, Double)
    public var range: (Double, Double)
    public init(domain: (Double, Double), range: (Double, Double)) { self.domain = domain; self.range = range }
    public func callAsFunction(_ v: Double) -> Double {
        let d = domain.1 - domain.0
        if d == 0 || !d.isFinite { return (range.0 + range.1) / 2 }
        return range.0 + (v - domain.0) / d * (range.1 - range.0)
    }
}

public enum ReportTicks {
    /// About `target` round tick values (1, 2, 2.5 or 5 times a power of ten) covering lo...hi,
    /// with the domain widened to the outer ticks.
    public static func nice(_ lo: Double, _ hi: Double, target: Int = 5) -> (domain: (Double, Double), ticks: [Double], step: Double) {
        var a = lo.isFinite ? lo : 0, b = hi.isFinite ? hi : 1
        if a > b { swap(&a, &b) }
        if a == b { a -= a == 0 ? 0 : abs(a) * 0.1; b += b == 0 ? 1 : abs(b) * 0.1; if a == b { b = a + 1 } }
        let raw = (b - a) / Double(max(1, target))
        let mag = pow10(floorLog10(raw))
        var step = mag
        for m in [1.0, 2.0, 2.5, 5.0, 10.0] where raw <= m * mag * 1.0000001 { step = m * mag; break }
        let start = (a / step + 1e-9).rounded(.down) * step
        let end = (b / step - 1e-9).rounded(.up) * step
        var ticks = [Double]()
        var t = start
        var guardCount = 0
        while t <= end + step * 1e-6 && guardCount < 100 {
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
            guardCount += 1
        }
        return ((start, end), ticks, step)
    }

    /// Integer epoch ticks from 1...last: step 1, 2, 5, 10, 20, 50... so that at most `maxTicks` show.
    public static func epochs(last: Int, maxTicks: Int = 10) -> [Int] {
        guard last > 1 else { return [max(1, last)] }
        var step = 1
        let steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000]
        for s in steps { step = s; if last / s + 1 <= maxTicks { break } }
        var out = step == 1 ? [] : [1]
        var t = step
        if step == 1 { t = 1 }
        while t <= last { out.append(t); t += step }
        return out
    }

    /// Decimals needed to print ticks spaced `step` apart without repeating labels.
    public static func decimals(step: Double) -> Int {
        var d = 0
        var s = step
        while d < 6 && abs(s - s.rounded()) > 1e-6 { s *= 10; d += 1 }
        return d
    }

    /// Floor of log10(x) for x > 0 (0 otherwise).
    private static func floorLog10(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return 0 }
        var e = 0.0, v = x
        while v >= 10 { v /= 10; e += 1 }
        while v < 1 { v *= 10; e -= 1 }
        return e
    }

    private static func pow10(_ e: Double) -> Double {
        var r = 1.0
        let n = Int(e)
        if n >= 0 { for _ in 0..<n { r *= 10 } } else { for _ in 0..<(-n) { r /= 10 } }
        return r
    }
}

