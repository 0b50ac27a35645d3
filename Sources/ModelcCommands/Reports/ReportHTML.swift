// The self-contained report page: UTF-8, inline CSS, the plots as inline SVG, and the metrics
// as tables (overall per split, per class per split with macro averages, confusion matrices,
// class counts, per-epoch history; for an autoencoder the reconstruction error and images
// instead). No scripts, fonts, images or links to anything outside.

public enum ReportHTML {
    static let css = """
    :root { color-scheme: light; }
    body { margin: 0; background: #f4f5f7; color: #1f2328; font: 14px/1.45 "DejaVu Sans", "Segoe UI", Helvetica, Arial, "Noto Sans CJK JP", "Noto Sans Kannada", sans-serif; }
    main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; background: #ffffff; min-height: 100vh; box-sizing: border-box; }
    h1 { font-size: 24px; margin: 0 0 4px; word-break: break-word; }
    h2 { font-size: 18px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #e3e6ea; }
    h3 { font-size: 15px; margin: 22px 0 8px; }
    p.sub { margin: 0 0 18px; color: #656d76; }
    figure { margin: 8px 0 4px; }
    figure svg { display: block; max-width: 100%; height: auto; border: 1px solid #e3e6ea; border-radius: 6px; }
    figcaption { color: #656d76; font-size: 12.5px; margin-top: 4px; }
    table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; font-variant-numeric: tabular-nums; }
    th, td { padding: 4px 8px; border-bottom: 1px solid #e3e6ea; text-align: right; white-space: nowrap; }
    th { background: #f0f2f5; font-weight: 600; }
    th.name, td.name { text-align: left; }
    tbody tr:nth-child(even) td:not(.cm) { background: #fafbfc; }
    tr.macro td { font-weight: 600; border-top: 2px solid #c9ced4; }
    table.info td, table.info th { text-align: left; white-space: normal; }
    table.info th { width: 180px; }
    table.confusion td.cm { text-align: center; min-width: 34px; }
    table.confusion td.diag { font-weight: 700; }
    table.confusion th.corner { font-weight: 400; color: #656d76; font-size: 12px; }
    .scroll { overflow-x: auto; }
    .tables { display: flex; flex-wrap: wrap; gap: 0 28px; align-items: flex-start; }
    details summary { cursor: pointer; color: #0b5cad; margin: 6px 0; }
    .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
    footer { margin-top: 36px; color: #8c959f; font-size: 12px; }
    """

    /// The whole page. `svgs` are the already rendered plots (standalone SVG text); the XML
    /// declaration is stripped when they are inlined.
    public static func page(_ d: ReportData, learningCurves: String?, confusion: String?, distribution: String?, samples: String?,
                            reconstructions: String? = nil) -> String {
        let e = ReportXML.escape
        var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<title>\(e(d.modelName)) — modelc report</title>\n<style>\n\(css)\n</style>\n</head>\n<body>\n<main>\n"
        h += "<h1>\(e(d.modelName))</h1>\n<p class=\"sub\">modelc report: " + (d.isAutoencoder ? "autoencoder (the targets are the inputs)" : "\(d.classNames.count) classes")
        if !d.history.isEmpty { h += ", \(d.history.count) epoch\(d.history.count == 1 ? "" : "s") of training" }
        let evaluated = d.splits.isEmpty ? d.reconstructionErrors.map(\.split) : d.splits.map(\.split)
        if !evaluated.isEmpty { h += ", evaluated on \(evaluated.map { e($0) }.joined(separator: ", "))" }
        h += "</p>\n"

        if !d.info.isEmpty {
            h += "<table class=\"info\">\n<tbody>\n"
            for item in d.info { h += "<tr><th>\(e(item.key))</th><td>\(e(item.value))</td></tr>\n" }
            h += "</tbody>\n</table>\n"
        }

        if !d.splits.isEmpty {
            h += "<h2 id=\"overall\">Overall metrics</h2>\n"
            h += splitTable("overall", ["accuracy", "loss", "macro precision", "macro recall", "macro F1", "macro ROC-AUC"], d.splits.map { s in
                (s.split, s.count, [ReportFormat.percent(s.accuracy), ReportFormat.metric(s.loss), ReportFormat.metric(s.macroPrecision),
                                    ReportFormat.metric(s.macroRecall), ReportFormat.metric(s.macroF1), ReportFormat.metric(s.macroROCAUC)])
            })
        }

        h += reconstructionSection(d, svg: reconstructions)

        if let svg = learningCurves {
            let hasVal = d.history.contains { $0.valLoss != nil || $0.valAccuracy != nil }
            let measures = d.history.contains { $0.accuracy.isFinite } ? "loss and accuracy" : "loss"
            let what = hasVal ? "Training (solid) and validation (dashed) \(measures)" : "Training \(measures) (no validation data)"
            h += "<h2 id=\"learning-curves\">Learning curves</h2>\n" + figure(svg, caption: "\(what) per epoch; also in learning_curves.svg and history.csv.")
            h += historyTable(d.history)
        }

        if !d.splits.isEmpty {
            h += "<h2 id=\"per-class\">Per-class metrics</h2>\n"
            h += "<div class=\"tables\">\n"
            for s in d.splits { h += perClassTable(s, d) }
            h += "</div>\n"
        }

        if let svg = confusion {
            h += "<h2 id=\"confusion\">Confusion matrix</h2>\n"
            h += figure(svg, caption: "Rows: true class; columns: predicted class. Shading is the share of the row: blue on the diagonal (0–100%), red for errors (relative to the largest error share). Also in confusion.svg.")
            let shown = d.heatMapMetrics?.split
            for s in d.splits where s.split == shown { h += confusionTable(s, d) }
            for s in d.splits where s.split != shown {
                h += "<details><summary>Confusion matrix on \(ReportXML.escape(s.split))</summary>\n" + confusionTable(s, d) + "</details>\n"
            }
        }

        if let svg = distribution {
            h += "<h2 id=\"distribution\">Class distribution</h2>\n" + figure(svg, caption: "Examples per class in each split; also in class_distribution.svg.")
            h += countsTable(d)
        }

        if let svg = samples {
            h += "<h2 id=\"samples\">Sample images</h2>\n" + figure(svg, caption: "Misclassified images have a red border; also in samples.svg.")
        }

        h += "<footer>Written by modelc. This page is self-contained: no scripts and no external resources.</footer>\n"
        h += "</main>\n</body>\n</html>\n"
        return h
    }

    /// An autoencoder's reconstruction error per split and its reconstructions figure.
    private static func reconstructionSection(_ d: ReportData, svg: String?) -> String {
        guard d.isAutoencoder else { return "" }
        var h = "<h2 id=\"reconstruction\">Reconstruction error</h2>\n"
        if !d.reconstructionErrors.isEmpty {
            h += splitTable("reconstruction", ["MSE per value", "MAE per value", "RMSE"], d.reconstructionErrors.map { r in
                (r.split, r.count, [r.mse, r.mae, r.mse.squareRoot()].map { ReportFormat.metric($0, decimals: 6) })
            })
            h += "<p class=\"sub\">Errors between the model's outputs and its inputs in the model's units (the inputs after the model's scale and offset), averaged over every value (every pixel) of every example.</p>\n"
        }
        if let svg {
            h += figure(svg, caption: "The first \(d.reconstructionSplit) images (top) and the model's reconstructions (bottom), pixels mapped back through the input scale; also in reconstructions.svg.")
        }
        return h
    }

    /// A metrics table with a row per split: its swatch and name, its example count, then `cells`
    /// (formatted) under `headers`.
    private static func splitTable(_ cls: String, _ headers: [String], _ rows: [(split: String, count: Int, cells: [String])]) -> String {
        var h = "<table class=\"metrics \(cls)\">\n<thead><tr><th class=\"name\">split</th><th>examples</th>"
        h += headers.map { "<th>\($0)</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for r in rows {
            h += "<tr><td class=\"name\">\(swatch(r.split))\(ReportXML.escape(r.split))</td><td>\(ReportFormat.grouped(r.count))</td>"
            h += r.cells.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
        }
        return h + "</tbody>\n</table>\n"
    }

    private static func swatch(_ split: String) -> String {
        "<span class=\"swatch\" style=\"background:\(ReportPalette.color(split: split))\"></span>"
    }

    private static func figure(_ svg: String, caption: String) -> String {
        var body = svg
        if body.hasPrefix("<?xml"), let end = body.firstIndex(of: "\n") { body = String(body[body.index(after: end)...]) }
        return "<figure>\n\(body)<figcaption>\(ReportXML.escape(caption))</figcaption>\n</figure>\n"
    }

    private static func nameCells(_ d: ReportData, _ c: Int) -> String {
        let e = ReportXML.escape
        var s = "<td class=\"name\">\(e(c < d.classNames.count ? d.classNames[c] : "class \(c)"))</td>"
        if let n = d.nativeClassNames { s += "<td class=\"name native\">\(e(c < n.count ? n[c] : ""))</td>" }
        return s
    }

    private static func nameHeaders(_ d: ReportData) -> String {
        "<th class=\"name\">class</th>" + (d.nativeClassNames == nil ? "" : "<th class=\"name\">native</th>")
    }

    private static func perClassTable(_ s: ReportSplitMetrics, _ d: ReportData) -> String {
        let e = ReportXML.escape
        let k = d.classNames.count
        var h = "<div class=\"scroll\"><h3>\(swatch(s.split))\(e(s.split))</h3>\n<table class=\"metrics per-class\" data-split=\"\(e(s.split))\">\n<thead><tr>"
        h += "<th>#</th>" + nameHeaders(d) + "<th>support</th><th>precision</th><th>recall</th><th>F1</th><th>ROC-AUC</th></tr></thead>\n<tbody>\n"
        let support = s.support
        for c in 0..<k {
            h += "<tr><td>\(c)</td>" + nameCells(d, c)
            h += "<td>\(c < support.count ? ReportFormat.grouped(support[c]) : "–")</td>"
            h += "<td>\(ReportFormat.metric(c < s.precision.count ? s.precision[c] : nil))</td>"
            h += "<td>\(ReportFormat.metric(c < s.recall.count ? s.recall[c] : nil))</td>"
            h += "<td>\(ReportFormat.metric(c < s.f1.count ? s.f1[c] : nil))</td>"
            h += "<td>\(ReportFormat.metric(c < s.rocAUC.count ? s.rocAUC[c] : nil))</td></tr>\n"
        }
        let span = d.nativeClassNames == nil ? 2 : 3
        h += "<tr class=\"macro\"><td class=\"name\" colspan=\"\(span)\">macro average</td><td>\(ReportFormat.grouped(support.reduce(0, +)))</td>"
        h += "<td>\(ReportFormat.metric(s.macroPrecision))</td><td>\(ReportFormat.metric(s.macroRecall))</td>"
        h += "<td>\(ReportFormat.metric(s.macroF1))</td><td>\(ReportFormat.metric(s.macroROCAUC))</td></tr>\n"
        h += "</tbody>\n</table></div>\n"
        return h
    }

    private static func confusionTable(_ s: ReportSplitMetrics, _ d: ReportData) -> String {
        let e = ReportXML.escape
        let k = d.classNames.count
        var h = "<h3>\(e(s.split)) (rows: true, columns: predicted)</h3>\n<div class=\"scroll\"><table class=\"confusion\" data-split=\"\(e(s.split))\">\n<thead><tr><th class=\"corner\">true \\ pred</th>"
        for c in 0..<k { h += "<th title=\"\(e(d.displayName(c)))\">\(e(d.classNames[c]))</th>" }
        h += "<th>total</th></tr></thead>\n<tbody>\n"
        let maxErr = ReportPalette.maxErrorShare(s.confusion)
        for r in 0..<min(k, s.confusion.count) {
            let row = s.confusion[r]
            let sum = row.reduce(0, +)
            h += "<tr><th class=\"name\">\(e(d.displayName(r)))</th>"
            for c in 0..<k {
                let v = c < row.count ? row[c] : 0
                let share = sum > 0 ? Double(v) / Double(sum) : 0
                let colors = ReportPalette.confusionCell(count: v, share: share, diagonal: r == c, maxErrorShare: maxErr)
                let style = "background:\(colors.fill);color:\(colors.text)"
                h += "<td class=\"cm\(r == c ? " diag" : "")\" style=\"\(style)\">\(v)</td>"
            }
            h += "<td>\(ReportFormat.grouped(sum))</td></tr>\n"
        }
        h += "</tbody>\n</table></div>\n"
        return h
    }

    private static func countsTable(_ d: ReportData) -> String {
        let e = ReportXML.escape
        var h = "<details><summary>Counts per class</summary>\n<table class=\"counts\">\n<thead><tr><th>#</th>" + nameHeaders(d)
        for c in d.classCounts { h += "<th>\(swatch(c.split))\(e(c.split))</th>" }
        h += "</tr></thead>\n<tbody>\n"
        for i in 0..<d.classNames.count {
            h += "<tr><td>\(i)</td>" + nameCells(d, i)
            for c in d.classCounts { h += "<td>\(i < c.counts.count ? ReportFormat.grouped(c.counts[i]) : "–")</td>" }
            h += "</tr>\n"
        }
        h += "</tbody>\n</table></details>\n"
        return h
    }

    private static func historyTable(_ rows: [ReportEpoch]) -> String {
        let hasLR = rows.contains { $0.learningRate != nil }
        var h = "<details><summary>Per-epoch history (\(rows.count) epoch\(rows.count == 1 ? "" : "s"))</summary>\n<table class=\"history\">\n<thead><tr>"
        h += "<th>epoch</th><th>loss</th><th>accuracy</th><th>val loss</th><th>val accuracy</th><th>seconds</th>"
        if hasLR { h += "<th>learning rate</th>" }
        h += "</tr></thead>\n<tbody>\n"
        for r in rows {
            h += "<tr><td>\(r.epoch)</td><td>\(ReportFormat.metric(r.loss))</td><td>\(ReportFormat.percent(r.accuracy))</td>"
            h += "<td>\(ReportFormat.metric(r.valLoss))</td><td>\(r.valAccuracy.map { ReportFormat.percent($0) } ?? "–")</td>"
            h += "<td>\(ReportFormat.fixed(r.seconds, decimals: 1))</td>"
            if hasLR { h += "<td>\(r.learningRate.map { "\($0)" } ?? "–")</td>" }
            h += "</tr>\n"
        }
        h += "</tbody>\n</table></details>\n"
        return h
    }
}
