// Confusion-matrix heat map: one <rect> per cell in the group "cells" (rows = true class,
// columns = predicted class), with the count written in the cell. Shading is row-normalized:
// diagonal cells in blues by their share of the row (0...100%, so every class reads on the same
// scale whatever its size); error cells in reds by their share of the row relative to the
// largest error share, so that rare confusions of a 99% model stay visible. Two stepped color
// bars on the right explain both scales.

extension ReportPlots {
    /// `labels` are the class names shown on the axes (one per class, same order as the matrix).
    public static func confusionHeatMap(_ m: ReportSplitMetrics, labels: [String], modelName: String) -> String {
        ConfusionHeatMap(m, labels: labels).render(modelName: modelName)
    }
}

/// One confusion heat map: its geometry (cells, fonts, margins, color bars) and its parts.
struct ConfusionHeatMap {
    let m: ReportSplitMetrics
    let labels: [String]
    /// Classes (rows and columns).
    let k: Int
    let cell: Double, font: Double, labelFont: Double
    let yLabelW: Double, xLabelW: Double, rotateX: Bool
    let left: Double, top: Double, gridW: Double, bottomBand: Double
    let width: Double, height: Double
    /// Height of each color bar.
    let barH: Double
    /// The largest share of a row outside the diagonal (the top of the errors' scale).
    let maxErr: Double

    init(_ m: ReportSplitMetrics, labels: [String]) {
        self.m = m
        self.labels = labels
        k = m.confusion.count
        cell = max(16, min(56, 560 / Double(max(1, k))))
        font = max(8, min(13, cell * 0.27))
        let labelFont = max(9, min(12.5, cell * 0.5))
        self.labelFont = labelFont
        let maxLabel = 150.0
        yLabelW = min(maxLabel, (0..<k).map { ReportText.width(Self.name($0, labels), size: labelFont) }.max() ?? 0)
        xLabelW = yLabelW
        rotateX = xLabelW > cell - 6
        left = 20 + 22 + yLabelW + 10              // axis title, labels, gap
        top = 62.0
        gridW = cell * Double(k)
        bottomBand = (rotateX ? xLabelW * 0.72 + 16 : 22) + 34
        width = max(left + gridW + 120, 520)
        barH = max(60, min(gridW / 2 - 30, 200.0))
        height = max(top + gridW + bottomBand + 10, top + 16 + 2 * (barH + 46) + 10)
        maxErr = ReportPalette.maxErrorShare(m.confusion)
    }

    /// Class `i`'s label, or "class i" past the end of `labels`.
    static func name(_ i: Int, _ labels: [String]) -> String { i < labels.count ? labels[i] : "class \(i)" }
    func name(_ i: Int) -> String { Self.name(i, labels) }

    func render(modelName: String) -> String {
        let total = m.confusion.reduce(0) { $0 + $1.reduce(0, +) }
        var correct = 0
        for i in 0..<k where i < m.confusion[i].count { correct += m.confusion[i][i] }
        var svg = SVGWriter(width: width, height: height, title: "Confusion matrix of \(modelName) on \(m.split)",
                            desc: "Rows are true classes, columns predicted classes; shading is the share of the row.")
        svg.text("Confusion matrix — \(m.split)", x: 20, y: 26, size: 15, weight: "bold")
        let acc = total > 0 ? ReportFormat.percent(Double(correct) / Double(total)) : "–"
        svg.text(ReportText.fit("\(ReportFormat.grouped(total)) examples, \(ReportFormat.grouped(correct)) on the diagonal (\(acc)); \(modelName)",
                                size: 12, maxWidth: width - 40),
                 x: 20, y: 46, size: 12, fill: ReportPalette.muted)
        drawCells(&svg)
        if cell >= 18 { drawCounts(&svg) }
        drawAxisLabels(&svg)
        drawScales(&svg)
        return svg.render()
    }

    /// Count and share of the row of cell (r, c).
    func entry(_ r: Int, _ c: Int) -> (count: Int, share: Double) {
        let row = m.confusion[r]
        let rowSum = row.reduce(0, +)
        let v = c < row.count ? row[c] : 0
        return (v, rowSum > 0 ? Double(v) / Double(rowSum) : 0)
    }

    /// The cells, shaded, with a tooltip each.
    func drawCells(_ svg: inout SVGWriter) {
        svg.beginGroup(cls: "cells")
        for r in 0..<k {
            for c in 0..<k {
                let (v, share) = entry(r, c)
                let x = left + Double(c) * cell, y = top + Double(r) * cell
                let colors = ReportPalette.confusionCell(count: v, share: share, diagonal: r == c, maxErrorShare: maxErr)
                svg.rect(x: x, y: y, width: cell, height: cell, fill: colors.fill, stroke: "#ffffff",
                         strokeWidth: 1, cls: r == c ? "cell diagonal" : "cell",
                         tooltip: "true \(name(r)), predicted \(name(c)): \(v) (\(ReportFormat.percent(share, decimals: 1)) of true \(name(r)))")
            }
        }
        svg.endGroup()
    }

    /// The count in each cell, in the text color of its shade.
    func drawCounts(_ svg: inout SVGWriter) {
        svg.beginGroup(cls: "counts")
        for r in 0..<k {
            for c in 0..<k {
                let (v, share) = entry(r, c)
                let s = String(v)
                let f = min(font, (cell - 4) / max(1, Double(s.count) * 0.62))
                svg.text(s, x: left + (Double(c) + 0.5) * cell, y: top + (Double(r) + 0.5) * cell + f * 0.36,
                         size: f, anchor: .middle,
                         fill: ReportPalette.confusionCell(count: v, share: share, diagonal: r == c, maxErrorShare: maxErr).text,
                         weight: r == c ? "bold" : nil)
            }
        }
        svg.endGroup()
    }

    /// Class names down the left (true) and along the bottom (predicted, rotated when long).
    func drawAxisLabels(_ svg: inout SVGWriter) {
        svg.beginGroup(cls: "y-labels")
        for r in 0..<k {
            svg.text(ReportText.fit(name(r), size: labelFont, maxWidth: yLabelW), x: left - 8,
                     y: top + (Double(r) + 0.5) * cell + labelFont * 0.36, size: labelFont, anchor: .end, fill: ReportPalette.text)
        }
        svg.text("true class", x: 28, y: top + gridW / 2, size: 12.5, anchor: .middle, fill: ReportPalette.text,
                 weight: "bold", rotate: -90)
        svg.endGroup()
        svg.beginGroup(cls: "x-labels")
        for c in 0..<k {
            let px = left + (Double(c) + 0.5) * cell
            let label = ReportText.fit(name(c), size: labelFont, maxWidth: xLabelW)
            if rotateX {
                svg.text(label, x: px + labelFont * 0.3, y: top + gridW + 10, size: labelFont, anchor: .end,
                         fill: ReportPalette.text, rotate: -45)
            } else {
                svg.text(label, x: px, y: top + gridW + 16, size: labelFont, anchor: .middle, fill: ReportPalette.text)
            }
        }
        svg.text("predicted class", x: left + gridW / 2, y: top + gridW + bottomBand - 14, size: 12.5, anchor: .middle,
                 fill: ReportPalette.text, weight: "bold")
        svg.endGroup()
    }

    /// Color scales: diagonal (blues, 0...100% of the row) and errors (reds, 0...largest error share).
    func drawScales(_ svg: inout SVGWriter) {
        let steps = 10
        svg.beginGroup(cls: "scale")
        let scales: [(String, Double, String, (Double) -> String)] = [
            ("correct", 1.0, "100%", ReportPalette.blues),
            ("errors", maxErr, ReportFormat.percent(maxErr, decimals: maxErr < 0.1 ? 1 : 0), { ReportPalette.reds(ReportPalette.errorShade($0)) }),
        ]
        for (si, sc) in scales.enumerated() {
            let barX = left + gridW + 24
            let y0 = top + 16 + Double(si) * (barH + 46)
            svg.text(sc.0, x: barX, y: y0 - 9, size: 10.5, fill: ReportPalette.text, weight: "bold")
            for i in 0..<steps {
                let t = (Double(steps - 1 - i) + 0.5) / Double(steps)
                svg.rect(x: barX, y: y0 + Double(i) * barH / Double(steps), width: 14, height: barH / Double(steps) + 0.5,
                         fill: sc.3(t))
            }
            svg.rect(x: barX, y: y0, width: 14, height: barH, fill: "none", stroke: "#999999", strokeWidth: 0.8)
            svg.text(sc.2, x: barX + 20, y: y0 + 4, size: 10.5, fill: ReportPalette.muted)
            svg.text("0%", x: barX + 20, y: y0 + barH + 4, size: 10.5, fill: ReportPalette.muted)
        }
        svg.text("share of row", x: left + gridW + 24, y: top + 16 + 2 * (barH + 46) - 18, size: 10.5, fill: ReportPalette.muted)
        svg.endGroup()
    }
}
