// Writes a report directory. Every file goes to a temporary file in the same directory, is
// fsynced and renamed over its final name, so a reader never sees a half-written file.
//
//   report.html            always: the self-contained page (plots inline, metrics tables)
//   learning_curves.svg    when there is a training history
//   history.csv            when there is a training history
//   confusion.svg          when there is at least one evaluated split
//   class_distribution.svg when class counts are given
//   samples.svg            when sample images are given
//   reconstructions.svg    when an autoencoder's reconstructions are given
//
// A file of this list that the current data does not produce is removed if an earlier report
// left it in the directory, so the directory never mixes two runs.

import Foundation
import ModelcData
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum ReportWriter {
    public static let fileNames = ["report.html", "learning_curves.svg", "history.csv", "confusion.svg",
                                   "class_distribution.svg", "samples.svg", "reconstructions.svg"]

    /// The report's files as (name, contents), in the order they are written. Pure: no I/O.
    public static func render(_ data: ReportData) throws -> [(name: String, contents: String)] {
        try data.validate()
        let labels = (0..<data.classNames.count).map { data.displayName($0) }
        var files: [(name: String, contents: String)] = []
        var curves: String?, confusion: String?, distribution: String?, samples: String?
        if !data.history.isEmpty {
            curves = ReportPlots.learningCurves(history: data.history, modelName: data.modelName)
            files.append(("learning_curves.svg", curves!))
            files.append(("history.csv", ReportPlots.historyCSV(data.history)))
        }
        if let m = data.heatMapMetrics {
            confusion = ReportPlots.confusionHeatMap(m, labels: labels, modelName: data.modelName)
            files.append(("confusion.svg", confusion!))
        }
        if !data.classCounts.isEmpty {
            distribution = ReportPlots.classDistribution(data.classCounts, labels: labels, modelName: data.modelName)
            files.append(("class_distribution.svg", distribution!))
        }
        if !data.samples.isEmpty {
            let split = data.heatMapMetrics?.split ?? "test"
            samples = try ReportPlots.samplesGrid(data.samples, labels: labels, modelName: data.modelName, split: split)
            files.append(("samples.svg", samples!))
        }
        var reconstructions: String?
        if !data.reconstructions.isEmpty {
            reconstructions = try ReportPlots.reconstructionsGrid(data.reconstructions, modelName: data.modelName, split: data.reconstructionSplit)
            files.append(("reconstructions.svg", reconstructions!))
        }
        files.append(("report.html", ReportHTML.page(data, learningCurves: curves, confusion: confusion,
                                                      distribution: distribution, samples: samples, reconstructions: reconstructions)))
        return files
    }

    /// Validates `data`, creates `directory` (and its parents) if needed and writes the report
    /// files atomically. Returns the paths written. Throws `ReportError` naming the file and the
    /// failing operation, or the data field that is inconsistent.
    @discardableResult
    public static func write(to directory: String, data: ReportData) throws -> [String] {
        let files = try render(data)
        try makeDirectory(directory)
        var written: [String] = []
        for f in files {
            let path = join(directory, f.name)
            try writeAtomically(Array(f.contents.utf8), to: path)
            written.append(path)
        }
        let produced = Set(files.map { $0.name })
        for name in fileNames where !produced.contains(name) {
            let path = join(directory, name)
            if unlink(path) != 0 && errno != ENOENT {
                throw ReportError(file: path, "cannot remove the stale report file: \(String(cString: strerror(errno)))")
            }
        }
        return written
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    static func makeDirectory(_ directory: String) throws {
        guard !directory.isEmpty else { throw ReportError("report directory path is empty") }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) {
            if !isDir.boolValue { throw ReportError(file: directory, "exists and is not a directory, expected a report directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportError(file: directory, "cannot create the report directory: \(error.localizedDescription)")
        }
    }

    /// ModelcData's AtomicFile (temp file in the same directory, fsync, rename, fsync of the
    /// directory), its errors reported as ReportError naming the file.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        do { try AtomicFile.write(bytes, to: path) }
        catch let e as DataError { throw ReportError(file: path, e.message) }
    }
}
