// Learning curves: two panels side by side, loss (left) and accuracy (right) per epoch, each with
// the training curve (solid) and the validation curve (dashed) where validation values exist.
// Each curve is exactly one <polyline> through its finite points; epochs without a value (no
// validation that epoch, or a NaN loss) are skipped. Dots mark the points when there are few
// epochs, so a single epoch still shows. The accuracy panel marks the best validation epoch.
// A run without accuracy (an autoencoder or a regression: every accuracy NaN) gets the loss
// panel alone, across the whole width.

public enum ReportPlots {}

extension ReportPlots {
    public static func learningCurves(history: [ReportEpoch], modelName: String) -> String {
        let width = 980.0, height = 400.0
        var svg = SVGWriter(width: width, height: height, title: "Learning curves of \(modelName)",
                            desc: "Loss and accuracy per epoch, training (solid) and validation (dashed).")
        let rows = history.sorted { $0.epoch < $1.epoch }
        let hasVal = rows.contains { ($0.valLoss?.isFinite ?? false) || ($0.valAccuracy?.isFinite ?? false) }
        // Title, shortened so that it ends well before the legend (about 250 px with validation).
        let legendW = hasVal ? 250.0 : 130.0
        let prefix = "Learning curves — "
        let room = width - 20 - legendW - 30 - ReportText.width(prefix, size: 15) * 1.1
        svg.text(prefix + ReportText.fit(modelName, size: 15 * 1.1, maxWidth: room), x: 20, y: 26, size: 15, weight: "bold")

        // Legend (top right).
        svg.beginGroup(cls: "legend")
        var lx = width - 20.0
        let entries: [(String, String, String?)] = hasVal
            ? [("validation", ReportPalette.color(split: "val"), "6 4"), ("training", ReportPalette.color(split: "train"), nil)]
            : [("training", ReportPalette.color(split: "train"), nil)]
        for (label, color, dash) in entries {
            let tw = ReportText.width(label, size: 12)
            lx -= tw
            svg.text(label, x: lx, y: 26, size: 12, fill: ReportPalette.text)
            svg.line(x1: lx - 34, y1: 22, x2: lx - 6, y2: 22, stroke: color, width: 2.5, dash: dash)
            lx -= 34 + 22
        }
        svg.endGroup()

        if rows.isEmpty {
            svg.text("No training history: this report comes from an evaluation only.", x: width / 2, y: height / 2,
                     size: 14, anchor: .middle, fill: ReportPalette.muted)
            return svg.render()
        }

        let hasAccuracy = rows.contains { $0.accuracy.isFinite || ($0.valAccuracy?.isFinite ?? false) }
        let panelW = hasAccuracy ? (width - 40) / 2 : width - 40
        panel(&svg, x0: 20, y0: 44, w: panelW, h: height - 54, rows: rows, title: "Loss", isAccuracy: false)
        if hasAccuracy {
            panel(&svg, x0: 20 + panelW, y0: 44, w: panelW, h: height - 54, rows: rows, title: "Accuracy", isAccuracy: true)
        }
        return svg.render()
    }

    private static func panel(_ svg: inout SVGWriter, x0: Double, y0: Double, w: Double, h: Double,
                              rows: [ReportEpoch], title: String, isAccuracy: Bool) {
        let left = x0 + 62, right = x0 + w - 16, top = y0 + 24, bottom = y0 + h - 44
        let train: [(Int, Double)] = rows.compactMap { r in
            let v = isAccuracy ? r.accuracy : r.loss
            return v.isFinite ? (r.epoch, v) : nil
        }
        let val: [(Int, Double)] = rows.compactMap { r in
            guard let v = isAccuracy ? r.valAccuracy : r.valLoss, v.isFinite else { return nil }
            return (r.epoch, v)
        }
        let all = (train + val).map { $0.1 }
        let firstEpoch = rows.first.map { $0.epoch } ?? 1
        let lastEpoch = rows.last.map { $0.epoch } ?? 1

        // Y domain: loss from 0 (or below, if negative) to a nice maximum; accuracy from a nice
        // lower bound to 100%.
        var lo = all.min() ?? 0, hi = all.max() ?? 1
        if isAccuracy { hi = 1; lo = min(lo, 0.999) } else { lo = min(0, lo); if hi <= lo { hi = lo + 1 } }
        var ticks = ReportTicks.nice(lo, hi, target: 6)
        if isAccuracy {
            ticks.ticks = ticks.ticks.filter { $0 >= -1e-9 && $0 <= 1 + 1e-9 }
            ticks.domain = (max(0, ticks.domain.0), 1)
        }
        let y = ReportScale(domain: ticks.domain, range: (bottom, top))
        let xDomain: (Double, Double) = lastEpoch > firstEpoch ? (Double(firstEpoch), Double(lastEpoch))
                                                               : (Double(firstEpoch) - 1, Double(firstEpoch) + 1)
        let x = ReportScale(domain: xDomain, range: (left + 8, right - 8))

        svg.beginGroup(cls: isAccuracy ? "panel accuracy" : "panel loss")
        svg.text(title, x: (left + right) / 2, y: y0 + 12, size: 13, anchor: .middle, weight: "bold")
        svg.rect(x: left, y: top, width: right - left, height: bottom - top, fill: "#fcfcfc", stroke: "#cccccc", strokeWidth: 1, cls: "frame")

        // Y ticks and grid.
        let yDecimals = ReportTicks.decimals(step: isAccuracy ? ticks.step * 100 : ticks.step)
        svg.beginGroup(cls: "y-axis")
        for t in ticks.ticks {
            let py = y(t)
            svg.line(x1: left, y1: py, x2: right, y2: py, stroke: ReportPalette.grid, width: 1)
            svg.line(x1: left - 5, y1: py, x2: left, y2: py, stroke: ReportPalette.axis, width: 1)
            let label = isAccuracy ? ReportFormat.fixed(t * 100, decimals: yDecimals) + "%" : ReportFormat.fixed(t, decimals: yDecimals)
            svg.text(label, x: left - 8, y: py + 4, size: 11, anchor: .end, fill: ReportPalette.muted)
        }
        svg.text(isAccuracy ? "accuracy" : "loss", x: x0 + 14, y: (top + bottom) / 2, size: 12, anchor: .middle,
                 fill: ReportPalette.text, rotate: -90)
        svg.endGroup()

        // X ticks.
        svg.beginGroup(cls: "x-axis")
        let span = lastEpoch - firstEpoch + 1
        for e in ReportTicks.epochs(last: span).map({ $0 + firstEpoch - 1 }) {
            let px = x(Double(e))
            svg.line(x1: px, y1: bottom, x2: px, y2: bottom + 5, stroke: ReportPalette.axis, width: 1)
            svg.text(String(e), x: px, y: bottom + 18, size: 11, anchor: .middle, fill: ReportPalette.muted)
        }
        svg.text("epoch", x: (left + right) / 2, y: bottom + 36, size: 12, anchor: .middle, fill: ReportPalette.text)
        svg.endGroup()

        // Best validation epoch (accuracy panel): a dashed vertical line and its value.
        if isAccuracy, let best = val.max(by: { $0.1 < $1.1 }) {
            let px = x(Double(best.0))
            svg.beginGroup(cls: "best-epoch")
            svg.line(x1: px, y1: top, x2: px, y2: bottom, stroke: "#999999", width: 1, dash: "3 3")
            let label = "best val \(ReportFormat.percent(best.1)) @ \(best.0)"
            let tw = ReportText.width(label, size: 11)
            let anchorRight = px + 6 + tw > right
            svg.text(label, x: anchorRight ? px - 6 : px + 6, y: bottom - 8, size: 11,
                     anchor: anchorRight ? .end : .start, fill: "#555555")
            svg.endGroup()
        }

        // Curves: one polyline each, then point markers.
        let showDots = rows.count <= 40
        for (name, points, split, dash) in [("training", train, "train", nil as String?), ("validation", val, "val", "6 4")] where !points.isEmpty {
            let color = ReportPalette.color(split: split)
            let what = isAccuracy ? "accuracy" : "loss"
            svg.beginGroup(cls: "curve \(split)")
            svg.polyline(points: points.map { (x(Double($0.0)), y($0.1)) }, stroke: color, width: 2.2, dash: dash,
                         cls: "curve", tooltip: "\(name) \(what)")
            if showDots || points.count == 1 {
                for (e, v) in points {
                    let value = isAccuracy ? ReportFormat.percent(v) : ReportFormat.fixed(v, decimals: 4)
                    svg.circle(cx: x(Double(e)), cy: y(v), r: points.count == 1 ? 4 : 2.6, fill: color,
                               cls: "point", tooltip: "epoch \(e): \(name) \(what) \(value)")
                }
            }
            svg.endGroup()
        }
        svg.endGroup()
    }
}
