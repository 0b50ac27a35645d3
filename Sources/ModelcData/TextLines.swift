// Lines and trimming for annotation text, shared by ModelcCore's Document (tables, FILE.modelc)
// and ModelcModelFiles' ONNXSidecar, so that both read a line the same way.

public enum TextLines {
    /// Lines without their terminators: split on "\n", "\r\n" and "\r" (byte-wise: both are
    /// ASCII, so UTF-8 sequences stay whole).
    public static func split(_ text: String) -> [String] {
        var out: [String] = []
        let bytes = Array(text.utf8)
        var start = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 10 || b == 13 {
                out.append(String(decoding: bytes[start..<i], as: UTF8.self))
                if b == 13, i + 1 < bytes.count, bytes[i + 1] == 10 { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < bytes.count { out.append(String(decoding: bytes[start...], as: UTF8.self)) }
        return out
    }

    /// Without leading/trailing spaces, tabs, line breaks and no-break spaces.
    public static func trimmed<S: StringProtocol>(_ s: S) -> String {
        let u = Substring(s).unicodeScalars
        func ws(_ x: Unicode.Scalar) -> Bool {
            x == " " || x == "\t" || x == "\n" || x == "\r" || x.value == 0x0B || x.value == 0x0C
                || x.value == 0xA0 || x.value == 0x3000 || x.value == 0x2007 || x.value == 0x202F
        }
        guard let first = u.firstIndex(where: { !ws($0) }) else { return "" }
        guard let last = u.lastIndex(where: { !ws($0) }) else { return "" }
        return String(u[first...last])
    }
}
