// Kaggle-style image CSV: a header line, then one image per line.
//   label,pixel0,...,pixel783   (labelled: MNIST/Kannada train.csv, Dig-MNIST.csv)
//   id,pixel0,...,pixel783      (Kannada test.csv: no labels, Kaggle withholds them)
//   pixel0,...,pixel783         (Kaggle MNIST test.csv: no labels)
// The pixel count must be a square (28*28 = 784); every value an integer 0...255.

public enum KaggleCSV {
    public struct Table: Sendable {
        /// The images; `images.labels` is empty when the file has no label column.
        public var images: ImageSet
        public var hasLabels: Bool
        /// Values of the `id` column, if present.
        public var ids: [Int]?
    }

    public static func read(path: String) throws -> Table {
        try decode(FileIO.read(path: path), file: path)
    }

    public static func decode(_ b: [UInt8], file: String) throws -> Table {
        var pos = 0
        if b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { pos = 3 }   // UTF-8 BOM
        // Header.
        let headerEnd = b[pos...].firstIndex(of: 0x0A) ?? b.count
        var headerBytes = b[pos..<headerEnd]
        if headerBytes.last == 0x0D { headerBytes = headerBytes.dropLast() }
        let columns = String(decoding: headerBytes, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false)
            .map { String($0).trimmedWS().replacingQuotes() }
        guard !columns.isEmpty, !columns[0].isEmpty else {
            throw DataError(file: file, offset: 0, message: "line 1: expected a header like 'label,pixel0,...,pixel783', found an empty line")
        }
        var first = 0
        var hasLabels = false, hasIds = false
        if columns[0] == "label" { hasLabels = true; first = 1 }
        else if columns[0] == "id" { hasIds = true; first = 1 }
        let pixelCount = columns.count - first
        for (i, c) in columns[first...].enumerated() where c != "pixel\(i)" {
            throw DataError(file: file, offset: pos, message: "line 1: column \(first + i + 1): expected header 'pixel\(i)', found '\(c)' (expected 'label' or 'id', then pixel0, pixel1, ...)")
        }
        var side = 0
        while (side + 1) * (side + 1) <= pixelCount { side += 1 }
        guard pixelCount > 0, side * side == pixelCount else {
            throw DataError(file: file, offset: pos, message: "line 1: \(pixelCount) pixel columns is not a square image (expected e.g. 784 = 28x28)")
        }
        let columnCount = columns.count
        pos = headerEnd + 1
        // Each pixel takes at least 2 bytes ("0,"), so the file size bounds the pixel count.
        var pixels: [UInt8] = []
        pixels.reserveCapacity(b.count / 2 + 1)
        var labels: [Int32] = []
        var ids: [Int] = []
        var line = 2
        try b.withUnsafeBufferPointer { p in
            let n = p.count
            while pos < n {
                // Skip blank lines (e.g. the trailing newline).
                if p[pos] == 0x0A { pos += 1; line += 1; continue }
                if p[pos] == 0x0D && pos + 1 < n && p[pos + 1] == 0x0A { pos += 2; line += 1; continue }
                for col in 0..<columnCount {
                    let start = pos
                    var v = 0
                    var digits = 0
                    var negative = false
                    if pos < n && p[pos] == 0x2D { negative = true; pos += 1 }
                    while pos < n, p[pos] >= 0x30, p[pos] <= 0x39 {
                        v = v * 10 + Int(p[pos] - 0x30)
                        digits += 1
                        pos += 1
                        if digits > 12 { break }
                    }
                    // Tolerate "12.0" (some exports write floats) only if the fraction is zero.
                    if pos < n && p[pos] == 0x2E {
                        pos += 1
                        while pos < n, p[pos] == 0x30 { pos += 1 }
                    }
                    let isLast = col == columnCount - 1
                    let atEnd = pos >= n || p[pos] == 0x0A || (p[pos] == 0x0D && (pos + 1 >= n || p[pos + 1] == 0x0A))
                    if digits == 0 || digits > 12 || (isLast ? !atEnd : (pos >= n || p[pos] != 0x2C)) {
                        var e = start
                        while e < n && p[e] != 0x2C && p[e] != 0x0A && p[e] != 0x0D && e - start < 20 { e += 1 }
                        let found = (!isLast && atEnd && digits > 0) ? "the end of the line" : e > start ? "'" + String(decoding: UnsafeBufferPointer(rebasing: p[start..<e]), as: UTF8.self) + "'" : (start >= n ? "end of file" : "an empty field")
                        let what = isLast ? "an integer at the end of the line" : "an integer followed by ','"
                        let extra = (!isLast && atEnd && digits > 0) ? " (line has \(col + 1) fields, header has \(columnCount))" :
                                    (isLast && !atEnd && digits > 0 ? " (line has more fields than the header's \(columnCount))" : "")
                        throw DataError(file: file, offset: start, message: "line \(line): column \(col + 1) (\(columns[col])): expected \(what), found \(found)\(extra)")
                    }
                    if negative { v = -v }
                    if col < first {
                        if hasLabels {
                            guard v >= 0 && v < 1 << 20 else {
                                throw DataError(file: file, offset: start, message: "line \(line): label \(v) is not a class index (expected 0 or more)")
                            }
                            labels.append(Int32(v))
                        } else { ids.append(v) }
                    } else {
                        guard v >= 0 && v <= 255 else {
                            throw DataError(file: file, offset: start, message: "line \(line): column \(col + 1) (\(columns[col])): pixel value \(v) out of range 0...255")
                        }
                        pixels.append(UInt8(v))
                    }
                    if !isLast { pos += 1 }
                }
                if pos < n && p[pos] == 0x0D { pos += 1 }
                if pos < n && p[pos] == 0x0A { pos += 1 }
                line += 1
            }
        }
        let count = pixels.count / pixelCount
        if count == 0 {
            throw DataError(file: file, message: "no image rows after the header")
        }
        let set = ImageSet(count: count, height: side, width: side, channels: 1, pixels: pixels, labels: labels)
        return Table(images: set, hasLabels: hasLabels, ids: hasIds ? ids : nil)
    }
}

extension String {
    func replacingQuotes() -> String {
        if count >= 2, first == "\"", last == "\"" { return String(dropFirst().dropLast()) }
        return self
    }
}
