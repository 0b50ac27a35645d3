// An autoencoder's reconstructions: bands of up to 8 columns, each column one example, its
// original image (class "original") above the model's reconstruction (class "reconstruction"),
// both embedded as PNG data URIs (ReportPNG) scaled up with pixelated rendering, and the
// example's mean squared error under the reconstruction. Row labels on the left say which is which.

extension ReportPlots {
    /// Throws if an image's bytes do not match its size or channel count (see `ReportData.validate`).
    public static func reconstructionsGrid(_ items: [ReportReconstruction], modelName: String, split: String = "test") throws -> String {
        let maxSide = items.map { max($0.height, $0.width) }.max() ?? 28
        let target = 84.0
        let scale = maxSide <= Int(target) ? (target / Double(maxSide)).rounded(.down) : target / Double(maxSide)
        let box = Double(maxSide) * scale
        let cellW = box + 12, gap = 6.0, labelW = 104.0, errorH = 18.0
        let columns = max(1, min(8, items.count))
        let bands = (items.count + columns - 1) / columns
        let bandH = 2 * (box + gap) + errorH + 14
        let left = 20.0, top = 60.0
        let width = max(left * 2 + labelW + Double(columns) * (cellW + gap), 520)
        let height = top + Double(max(1, bands)) * bandH + 8

        var svg = SVGWriter(width: width, height: height, title: "Reconstructions of \(split) images by \(modelName)",
                            desc: "Each column: an input image above the model's reconstruction of it, with the mean squared error per value.")
        svg.text("Reconstructions of \(split) images", x: left, y: 26, size: 15, weight: "bold")
        svg.text(ReportText.fit("\(items.count) shown: the input above, the model's output below, with its mean squared error per value",
                                size: 12, maxWidth: width - 2 * left), x: left, y: 46, size: 12, fill: ReportPalette.muted)
        for band in 0..<bands {
            let y0 = top + Double(band) * bandH
            svg.text("input", x: left, y: y0 + box / 2 + 4, size: 12, fill: ReportPalette.text, cls: "row-label")
            svg.text("reconstruction", x: left, y: y0 + box + gap + box / 2 + 4, size: 12, fill: ReportPalette.text, cls: "row-label")
            for i in (band * columns)..<min(items.count, (band + 1) * columns) {
                try drawColumn(&svg, items[i], index: i, x0: left + labelW + Double(i - band * columns) * (cellW + gap), y0: y0,
                               box: box, scale: scale, split: split)
            }
        }
        return svg.render()
    }

    private static func drawColumn(_ svg: inout SVGWriter, _ r: ReportReconstruction, index i: Int, x0: Double, y0: Double,
                                   box: Double, scale: Double, split: String) throws {
        let w = Double(r.width) * scale, h = Double(r.height) * scale
        let x = x0 + 6 + (box - w) / 2
        let mse = ReportFormat.fixed(r.mse, decimals: 4)
        svg.beginGroup(cls: "pair")
        for (row, pixels, cls) in [(0.0, r.original, "original"), (1.0, r.reconstruction, "reconstruction")] {
            let png = try ReportPNG.encode(pixels: pixels, width: r.width, height: r.height, channels: r.channels)
            let y = y0 + row * (box + 6) + (box - h) / 2
            svg.rect(x: x - 1, y: y - 1, width: w + 2, height: h + 2, fill: "#ffffff", stroke: "#d0d0d0", cls: "frame")
            svg.image(x: x, y: y, width: w, height: h, href: ReportPNG.dataURI(png), cls: cls,
                      tooltip: "\(split) example \(i + 1): \(cls == "original" ? "input" : "reconstruction, mse \(mse)")")
        }
        svg.text("mse \(mse)", x: x0 + 6 + box / 2, y: y0 + 2 * box + 6 + 16, size: 10.5, anchor: .middle,
                 fill: ReportPalette.muted, cls: "example-mse")
        svg.endGroup()
    }
}
