// Class-distribution bar chart: for every class a group of bars, one per split (train, val,
// test...), side by side, on a shared count axis. Bars are <rect class="bar"> with a tooltip
// giving the count and the class's share of the split.

extension ReportPlots {
    /// `labels` are the class names (one per class); every `counts[i].counts` has one value per class.
    public static func classDistribution(_ counts: [ReportClassCounts], labels: [String], modelName: String) -> String {
        let k = labels.count
        let name: (Int) -> String = { $0 < labels.count ? labels[$0] : "class \($0)" }
        let groupW = max(28, min(90, 760 / Double(max(1, k))))
        let labelFont = 11.5
        let maxLabelW = min(150, (0..<k).map { ReportText.width(name($0), size: labelFont) }.max() ?? 0)
        let rotate = maxLabelW > groupW - 6
        let left = 78.0, top = 64.0, plotH = 280.0
        let plotW = groupW * Double(max(1, k))
        let bottom = top + plotH
        let width = max(left + plotW + 30, 560)
        let height = bottom + (rotate ? maxLabelW * 0.72 + 18 : 26) + 30

        var svg = SVGWriter(width: width, height: height, title: "Class distribution for \(modelName)",
                            desc: "Examples per class in each split.")
        svg.text("Class distribution", x: 20, y: 26, size: 15, weight: "bold")
        let totals = counts.map { "\($0.split) \(ReportFormat.grouped($0.counts.reduce(0, +)))" }.joined(separator: ", ")
        svg.text(ReportText.fit(totals.isEmpty ? "no split counts" : "examples: \(totals)", size: 12, maxWidth: width - 40),
                 x: 20, y: 46, size: 12, fill: ReportPalette.muted)

        // Legend, top right.
        svg.beginGroup(cls: "legend")
        var lx = width - 20
        for c in counts.reversed() {
            let tw = ReportText.width(c.split, size: 12)
            lx -= tw
            svg.text(c.split, x: lx, y: 26, size: 12, fill: ReportPalette.text)
            svg.rect(x: lx - 18, y: 16, width: 12, height: 12, fill: ReportPalette.color(split: c.split))
            lx -= 18 + 16
        }
        svg.endGroup()

        let maxCount = counts.flatMap { $0.counts }.max() ?? 0
        let ticks = ReportTicks.nice(0, Double(max(1, maxCount)), target: 5)
        let y = ReportScale(domain: ticks.domain, range: (bottom, top))

        svg.beginGroup(cls: "y-axis")
        for t in ticks.ticks {
            let py = y(t)
            svg.line(x1: left, y1: py, x2: left + plotW, y2: py, stroke: ReportPalette.grid, width: 1)
            svg.text(ReportFormat.grouped(Int(t.rounded())), x: left - 8, y: py + 4, size: 11, anchor: .end, fill: ReportPalette.muted)
        }
        svg.text("examples", x: 22, y: (top + bottom) / 2, size: 12, anchor: .middle, fill: ReportPalette.text, rotate: -90)
        svg.endGroup()

        svg.beginGroup(cls: "bars")
        let n = Double(max(1, counts.count))
        let barW = (groupW * 0.78) / n
        for (si, c) in counts.enumerated() {
            let splitTotal = c.counts.reduce(0, +)
            for i in 0..<min(k, c.counts.count) {
                let v = c.counts[i]
                let x = left + Double(i) * groupW + groupW * 0.11 + Double(si) * barW
                let share = splitTotal > 0 ? Double(v) / Double(splitTotal) : 0
                svg.rect(x: x, y: y(Double(v)), width: max(1, barW - 1), height: bottom - y(Double(v)),
                         fill: ReportPalette.color(split: c.split), cls: "bar",
                         tooltip: "\(c.split), \(name(i)): \(v) (\(ReportFormat.percent(share, decimals: 1)) of \(c.split))")
            }
        }
        svg.endGroup()
        svg.line(x1: left, y1: bottom, x2: left + plotW, y2: bottom, stroke: ReportPalette.axis, width: 1)

        svg.beginGroup(cls: "x-labels")
        for i in 0..<k {
            let px = left + (Double(i) + 0.5) * groupW
            let label = ReportText.fit(name(i), size: labelFont, maxWidth: 150)
            if rotate {
                svg.text(label, x: px + 4, y: bottom + 12, size: labelFont, anchor: .end, fill: ReportPalette.text, rotate: -45)
            } else {
                svg.text(label, x: px, y: bottom + 17, size: labelFont, anchor: .middle, fill: ReportPalette.text)
            }
        }
        svg.text("class", x: left + plotW / 2, y: height - 10, size: 12, anchor: .middle, fill: ReportPalette.text)
        svg.endGroup()
        return svg.render()
    }
}
