// What the report of an autoencoder (`train: target=input`) shows instead of class metrics:
// the reconstruction error on each evaluated split, and a few images with what the model made
// of them. RunReport+Autoencoder.swift fills these from the model; ReconstructionsPlot.swift
// draws them; ReportHTML puts the table and the figure on the page.
//
// Errors are in the model's units (the inputs after the `input:` scale and offset, e.g. pixels
// divided by 255), averaged over every value of every example: MSE per pixel for images.

/// The reconstruction error of the model on one split.
public struct ReportReconstructionError: Sendable, Equatable {
    public var split: String
    public var count: Int                 // examples evaluated
    public var mse: Double                // mean squared error per value
    public var mae: Double                // mean absolute error per value
    public init(split: String, count: Int, mse: Double, mae: Double) {
        self.split = split; self.count = count; self.mse = mse; self.mae = mae
    }
}

/// One example and the model's reconstruction of it, both as 0...255 images.
public struct ReportReconstruction: Sendable, Equatable {
    public var original: [UInt8]          // height x width x channels, HWC
    public var reconstruction: [UInt8]    // the same layout, the model's outputs mapped back to pixels
    public var height: Int
    public var width: Int
    public var channels: Int              // 1 (grayscale) or 3 (RGB)
    public var mse: Double                // this example's mean squared error per value (model units)
    public init(original: [UInt8], reconstruction: [UInt8], height: Int, width: Int, channels: Int, mse: Double) {
        self.original = original; self.reconstruction = reconstruction
        self.height = height; self.width = width; self.channels = channels; self.mse = mse
    }
}

extension ReportData {
    /// An autoencoder's report: reconstruction errors or images instead of class metrics.
    public var isAutoencoder: Bool { !reconstructionErrors.isEmpty || !reconstructions.isEmpty }

    /// Checks the reconstruction fields (see `validate`).
    func validateReconstructions() throws {
        for e in reconstructionErrors {
            guard e.count >= 0, e.mse >= 0, e.mae >= 0 else {
                throw ReportError("report data: reconstruction error of split '\(e.split)' has count \(e.count), mse \(e.mse), mae \(e.mae); expected non-negative values")
            }
        }
        for (i, r) in reconstructions.enumerated() {
            guard r.channels == 1 || r.channels == 3 else {
                throw ReportError("report data: reconstruction \(i) has \(r.channels) channels, expected 1 or 3")
            }
            guard r.height > 0, r.width > 0, r.height <= 4096, r.width <= 4096 else {
                throw ReportError("report data: reconstruction \(i) is \(r.height)x\(r.width), expected 1...4096 on each side")
            }
            let n = r.height * r.width * r.channels
            guard r.original.count == n, r.reconstruction.count == n else {
                throw ReportError("report data: reconstruction \(i) is \(r.height)x\(r.width)x\(r.channels) = \(n) bytes, but has \(r.original.count) original and \(r.reconstruction.count) reconstructed bytes")
            }
        }
    }
}
