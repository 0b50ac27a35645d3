// A small SVG document builder used by the report plots.
//
// Every string that reaches the output (text content and attribute values alike) goes through
// `ReportXML.escape`, so class and model names containing < & " ' or control characters still
// give well-formed XML. Numbers are printed by `ReportXML.number`: at most two decimals, no
// trailing zeros, no exponent and no locale, so the same data always gives the same bytes.

/// XML text helpers shared by the SVG writer and the HTML report.
public enum ReportXML {
    /// Escapes the five XML special characters and replaces characters XML 1.0 forbids
    /// (C0 controls other than tab, newline and carriage return, lone surrogates, U+FFFE/U+FFFF)
    /// with U+FFFD, so the result is valid both as text content and inside a quoted attribute.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                let v = scalar.value
                let allowed = v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF)
                    || (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF)
                if allowed { out.unicodeScalars.append(scalar) } else { out += "\u{FFFD}" }
            }
        }
        return out
    }

    /// Deterministic decimal: rounded to `decimals` places (default 2), trailing zeros removed,
    /// "-0" printed as "0". Non-finite values print as "0" (coordinates must stay valid SVG).
    public static func number(_ x: Double, decimals: Int = 2) -> String {
        guard x.isFinite else { return "0" }
        return ReportFormat.fixed(x, decimals: decimals, trimZeros: true)
    }
}

/// Deterministic number formatting for SVG, HTML and CSV (no locale, no exponent).
public enum ReportFormat {
    /// `x` with exactly `decimals` digits after the point (or trailing zeros removed when
    /// `trimZeros`). Values beyond ±1e15 are clamped so the integer arithmetic cannot overflow.
    public static func fixed(_ x: Double, decimals: Int, trimZeros: Bool = false) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        let d = max(0, min(decimals, 9))
        var scale: Int64 = 1
        for _ in 0..<d { scale *= 10 }
        let clamped = max(-1e15, min(1e15, x))
        let scaled = (clamped * Double(scale)).rounded(.toNearestOrAwayFromZero)
        let clampedScaled = max(-9.0e17, min(9.0e17, scaled))
        let v = Int64(clampedScaled)
        let negative = v < 0
        let mag = v.magnitude
        let intPart = mag / UInt64(scale)
        var frac = d > 0 ? String(mag % UInt64(scale)) : ""
        while frac.count < d { frac = "0" + frac }
        if trimZeros { while frac.hasSuffix("0") { frac.removeLast() } }
        var s = String(intPart)
        if !frac.isEmpty { s += "." + frac }
        if negative && s.contains(where: { $0 != "0" && $0 != "." }) { s = "-" + s }
        return s
    }

    /// A fraction in 0...1 as a percentage, e.g. 0.98765 -> "98.77%".
    public static func percent(_ x: Double, decimals: Int = 2) -> String {
        x.isFinite ? fixed(x * 100, decimals: decimals) + "%" : "–"
    }

    /// A metric with `decimals` digits, or an en dash when absent or not finite.
    public static func metric(_ x: Double?, decimals: Int = 4) -> String {
        guard let x = x, x.isFinite else { return "–" }
        return fixed(x, decimals: decimals)
    }

    /// Integer with thin grouping, e.g. 60000 -> "60,000" (fixed comma, not locale dependent).
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }
}

/// Estimates of rendered text width, used to lay out labels without a font engine.
public enum ReportText {
    /// Approximate width in pixels of `s` in a sans-serif font of `size` pixels: wide (CJK,
    /// fullwidth) characters count 1 em, digits and most letters about 0.6 em.
    public static func width(_ s: String, size: Double) -> Double {
        var em = 0.0
        for scalar in s.unicodeScalars {
            let v = scalar.value
            if (v >= 0x1100 && v <= 0x115F) || (v >= 0x2E80 && v <= 0xA4CF) || (v >= 0xAC00 && v <= 0xD7A3)
                || (v >= 0xF900 && v <= 0xFAFF) || (v >= 0xFF00 && v <= 0xFF60) || (v >= 0x20000 && v <= 0x3FFFD) {
                em += 1.0
            } else if "iljtfI.,:;'|! ".unicodeScalars.contains(scalar) {
                em += 0.32
            } else if "mwMW%@".unicodeScalars.contains(scalar) {
                em += 0.85
            } else if v >= 0x41 && v <= 0x5A {
                em += 0.68
            } else if v >= 0x0C80 && v <= 0x0CFF {   // Kannada
                em += 0.8
            } else {
                em += 0.58
            }
        }
        return em * size
    }

    /// `s` shortened with an ellipsis so that its estimated width fits `maxWidth`.
    public static func fit(_ s: String, size: Double, maxWidth: Double) -> String {
        if width(s, size: size) <= maxWidth { return s }
        var chars = Array(s)
        while !chars.isEmpty && width(String(chars) + "…", size: size) > maxWidth { chars.removeLast() }
        return String(chars) + "…"
    }
}

/// Builds one SVG document element by element. Coordinates are in user units (pixels of the
/// viewBox); the document scales to its container when inlined in HTML.
public struct SVGWriter: Sendable {
    public enum Anchor: String, Sendable { case start, middle, end }

    public let width: Double
    public let height: Double
    private var body: [String] = []
    private var depth = 1
    private var openGroups = 0
    private let title: String
    private let desc: String?

    /// `title` and `desc` become the document's <title> and <desc> (accessible name and description).
    public init(width: Double, height: Double, title: String, desc: String? = nil) {
        self.width = width
        self.height = height
        self.title = title
        self.desc = desc
    }

    private static func attr(_ name: String, _ value: String) -> String { " \(name)=\"\(ReportXML.escape(value))\"" }
    private static func attr(_ name: String, _ value: Double) -> String { " \(name)=\"\(ReportXML.number(value))\"" }
    private static func optional(_ name: String, _ value: String?) -> String { value.map { attr(name, $0) } ?? "" }

    private mutating func emit(_ line: String) {
        body.append(String(repeating: "  ", count: depth) + line)
    }

    /// Emits `<tag attrs/>`, or `<tag attrs><title>tooltip</title></tag>` when a tooltip is given.
    private mutating func element(_ tag: String, _ attrs: String, tooltip: String?) {
        if let t = tooltip {
            emit("<\(tag)\(attrs)><title>\(ReportXML.escape(t))</title></\(tag)>")
        } else {
            emit("<\(tag)\(attrs)/>")
        }
    }

    /// Opens a <g>; every `beginGroup` must be matched by `endGroup` (render closes any left open).
    public mutating func beginGroup(id: String? = nil, cls: String? = nil, transform: String? = nil, fontSize: Double? = nil) {
        var a = SVGWriter.optional("id", id) + SVGWriter.optional("class", cls) + SVGWriter.optional("transform", transform)
        if let f = fontSize { a += SVGWriter.attr("font-size", f) }
        emit("<g\(a)>")
        depth += 1
        openGroups += 1
    }

    public mutating func endGroup() {
        guard openGroups > 0 else { return }
        openGroups -= 1
        depth -= 1
        emit("</g>")
    }

    /// A <title> child of the current group (tooltip / accessible name of the group).
    public mutating func groupTitle(_ text: String) {
        emit("<title>\(ReportXML.escape(text))</title>")
    }

    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                              stroke: String? = nil, strokeWidth: Double? = nil, rx: Double? = nil,
                              cls: String? = nil, tooltip: String? = nil) {
        var a = SVGWriter.attr("x", x) + SVGWriter.attr("y", y)
            + SVGWriter.attr("width", max(0, width)) + SVGWriter.attr("height", max(0, height))
        if let r = rx { a += SVGWriter.attr("rx", r) }
        a += SVGWriter.attr("fill", fill)
        if let s = stroke { a += SVGWriter.attr("stroke", s) + SVGWriter.attr("stroke-width", strokeWidth ?? 1) }
        a += SVGWriter.optional("class", cls)
        element("rect", a, tooltip: tooltip)
    }

    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                              width: Double = 1, dash: String? = nil, cls: String? = nil) {
        let a = SVGWriter.attr("x1", x1) + SVGWriter.attr("y1", y1) + SVGWriter.attr("x2", x2) + SVGWriter.attr("y2", y2)
            + SVGWriter.attr("stroke", stroke) + SVGWriter.attr("stroke-width", width)
            + SVGWriter.optional("stroke-dasharray", dash) + SVGWriter.optional("class", cls)
        element("line", a, tooltip: nil)
    }

    public mutating func polyline(points: [(x: Double, y: Double)], stroke: String, width: Double = 2,
                                  dash: String? = nil, cls: String? = nil, tooltip: String? = nil) {
        let pts = points.map { "\(ReportXML.number($0.x)),\(ReportXML.number($0.y))" }.joined(separator: " ")
        let a = SVGWriter.attr("points", pts) + " fill=\"none\"" + SVGWriter.attr("stroke", stroke)
            + SVGWriter.attr("stroke-width", width) + " stroke-linejoin=\"round\" stroke-linecap=\"round\""
            + SVGWriter.optional("stroke-dasharray", dash) + SVGWriter.optional("class", cls)
        element("polyline", a, tooltip: tooltip)
    }

    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String, stroke: String? = nil,
                                cls: String? = nil, tooltip: String? = nil) {
        var a = SVGWriter.attr("cx", cx) + SVGWriter.attr("cy", cy) + SVGWriter.attr("r", r) + SVGWriter.attr("fill", fill)
        if let s = stroke { a += SVGWriter.attr("stroke", s) }
        a += SVGWriter.optional("class", cls)
        element("circle", a, tooltip: tooltip)
    }

    /// Text with its baseline at `y`. `rotate` (degrees) turns it around (x, y).
    public mutating func text(_ s: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                              fill: String = "#222", weight: String? = nil, rotate: Double? = nil,
                              baseline: String? = nil, cls: String? = nil, tooltip: String? = nil) {
        var a = SVGWriter.attr("x", x) + SVGWriter.attr("y", y) + SVGWriter.attr("font-size", size)
        if anchor != .start { a += SVGWriter.attr("text-anchor", anchor.rawValue) }
        a += SVGWriter.attr("fill", fill) + SVGWriter.optional("font-weight", weight)
            + SVGWriter.optional("dominant-baseline", baseline)
        if let r = rotate {
            a += SVGWriter.attr("transform", "rotate(\(ReportXML.number(r)) \(ReportXML.number(x)) \(ReportXML.number(y)))")
        }
        a += SVGWriter.optional("class", cls)
        var content = ReportXML.escape(s)
        if let t = tooltip { content = "<title>\(ReportXML.escape(t))</title>" + content }
        emit("<text\(a)>\(content)</text>")
    }

    /// An embedded raster image; `href` is typically a `data:image/png;base64,...` URI.
    /// Pixelated scaling keeps small digits crisp instead of blurred.
    public mutating func image(x: Double, y: Double, width: Double, height: Double, href: String,
                               cls: String? = nil, tooltip: String? = nil) {
        let a = SVGWriter.attr("x", x) + SVGWriter.attr("y", y) + SVGWriter.attr("width", width)
            + SVGWriter.attr("height", height) + " preserveAspectRatio=\"none\" image-rendering=\"pixelated\""
            + " style=\"image-rendering:pixelated\"" + SVGWriter.attr("href", href)
            + SVGWriter.optional("class", cls)
        element("image", a, tooltip: tooltip)
    }

    /// The complete document. `standalone` adds the XML declaration (for .svg files); inline
    /// SVG inside HTML omits it.
    public func render(standalone: Bool = true) -> String {
        var out = standalone ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" : ""
        let w = ReportXML.number(width), h = ReportXML.number(height)
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\""
        out += " font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" role=\"img\">\n"
        out += "  <title>\(ReportXML.escape(title))</title>\n"
        if let d = desc { out += "  <desc>\(ReportXML.escape(d))</desc>\n" }
        out += "  <rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>\n"
        for line in body { out += line + "\n" }
        for i in stride(from: openGroups, to: 0, by: -1) {
            out += String(repeating: "  ", count: i) + "</g>\n"
        }
        out += "</svg>\n"
        return out
    }
}
