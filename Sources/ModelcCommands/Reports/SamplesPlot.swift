// Grid of sample test images: each image is embedded as a PNG data URI (encoded by ReportPNG,
// one <image> per sample, scaled up with pixelated rendering), with the true class and the
// predicted class and its probability beneath. Misclassified samples get a red border, a light
// red background and the prediction in red.

extension ReportPlots {
    /// `labels` are the class names shown under the images. Throws if a sample's pixels do not
    /// match its size or channel count (see `ReportData.validate`).
    public static func samplesGrid(_ samples: [ReportSample], labels: [String], modelName: String, split: String = "test") throws -> String {
        let name: (Int) -> String = { ($0 >= 0 && $0 < labels.count) ? labels[$0] : "class \($0)" }
        let maxSide = samples.map { max($0.height, $0.width) }.max() ?? 28
        let target = 84.0
        let scale = maxSide <= Int(target) ? (target / Double(maxSide)).rounded(.down) : target / Double(maxSide)
        let imgBox = Double(maxSide) * scale
        let cellW = max(imgBox + 20, 114), textH = 50.0
        let cellH = imgBox + 12 + textH
        let columns = max(1, min(8, samples.count))
        let rows = (samples.count + columns - 1) / columns
        let left = 20.0, top = 60.0, gap = 8.0
        let width = max(left * 2 + Double(columns) * (cellW + gap) - gap, 520)
        let height = top + Double(rows) * (cellH + gap) + 12
        let wrong = samples.filter { !$0.isCorrect }.count

        var svg = SVGWriter(width: width, height: height, title: "Sample \(split) images for \(modelName)",
                            desc: "True and predicted class under each image; misclassified images have a red border.")
        svg.text("Sample \(split) images", x: 20, y: 26, size: 15, weight: "bold")
        let long = "\(samples.count) shown, \(wrong) misclassified (red border); below each: true class, prediction, probability of the prediction"
        let short = "\(samples.count) shown, \(wrong) misclassified (red border)"
        svg.text(ReportText.width(long, size: 12) <= width - 40 ? long : ReportText.fit(short, size: 12, maxWidth: width - 40),
                 x: 20, y: 46, size: 12, fill: ReportPalette.muted)

        for (i, s) in samples.enumerated() {
            let png = try ReportPNG.encode(pixels: s.pixels, width: s.width, height: s.height, channels: s.channels)
            let col = i % columns, row = i / columns
            let x0 = left + Double(col) * (cellW + gap), y0 = top + Double(row) * (cellH + gap)
            let ok = s.isCorrect
            svg.beginGroup(cls: ok ? "sample correct" : "sample misclassified")
            svg.rect(x: x0, y: y0, width: cellW, height: cellH, fill: ok ? "#ffffff" : "#fdecea",
                     stroke: ok ? "#d0d0d0" : ReportPalette.wrong, strokeWidth: ok ? 1 : 2.5, rx: 4, cls: "frame")
            let w = Double(s.width) * scale, h = Double(s.height) * scale
            let ix = x0 + (cellW - w) / 2, iy = y0 + 6 + (imgBox - h) / 2
            let prob = ReportFormat.percent(s.probability, decimals: 1)
            svg.image(x: ix, y: iy, width: w, height: h, href: ReportPNG.dataURI(png), cls: "digit",
                      tooltip: "\(split) sample \(i + 1): true \(name(s.trueLabel)), predicted \(name(s.predictedLabel)) (\(prob))")
            let tx = x0 + cellW / 2, textW = cellW - 8
            let base = y0 + imgBox + 12
            svg.text(ReportText.fit("true: \(name(s.trueLabel))", size: 11, maxWidth: textW), x: tx, y: base + 13,
                     size: 11, anchor: .middle, fill: ReportPalette.text, cls: "true-label")
            // Bold text runs about 10% wider than the estimate, so misclassified lines get less room.
            let predLine = ReportText.fit("\(ok ? "" : "✗ ")pred: \(name(s.predictedLabel))", size: 11, maxWidth: ok ? textW : textW / 1.12)
            let color = ok ? "#1d7a33" : ReportPalette.wrong
            svg.text(predLine, x: tx, y: base + 28, size: 11, anchor: .middle, fill: color, weight: ok ? nil : "bold",
                     cls: "predicted-label")
            svg.text("p = \(prob)", x: tx, y: base + 42, size: 10.5, anchor: .middle, fill: ok ? ReportPalette.muted : color,
                     cls: "probability")
            svg.endGroup()
        }
        return svg.render()
    }
}
