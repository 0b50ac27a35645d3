// history.csv: one row per epoch, for spreadsheets and plotting tools.

extension ReportPlots {
    /// The per-epoch history as CSV: header `epoch,loss,accuracy,val_loss,val_accuracy,seconds,learning_rate`,
    /// one row per epoch; absent values are empty fields. Values use Swift's shortest round-trip form.
    public static func historyCSV(_ history: [ReportEpoch]) -> String {
        func v(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }
        var out = "epoch,loss,accuracy,val_loss,val_accuracy,seconds,learning_rate\n"
        for r in history {
            out += "\(r.epoch),\(v(r.loss)),\(v(r.accuracy)),\(v(r.valLoss)),\(v(r.valAccuracy)),\(ReportFormat.fixed(r.seconds, decimals: 3)),\(v(r.learningRate))\n"
        }
        return out
    }
}
