// What loading an image-folder split says: every file that could not be used (a warning, or with
// --strict-images an error), the files of other types, one line with the image count, the count
// per class, the fit and where the images came from, and the classes without images (an error
// for the training split, a note for the others).

import ModelcData

extension ImageFolderLoader {
    static func report(_ r: ImageFolderResult, scan: ImageFolderScan, split: ImageFolderSplit, options: ImageFolderOptions,
                       how: String, say: (String) -> Void) throws {
        for p in r.problems { say("\(options.strict ? "error" : "warning"): \(p.path): \(p.message)\(options.strict ? "" : "; skipped")") }
        if !scan.otherFiles.isEmpty {
            let kinds = scan.otherFiles.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
                .map { "\($0.key.isEmpty ? "no extension" : "." + $0.key) \($0.value)" }
            say("note: \(r.directory): \(scan.otherFiles.values.reduce(0, +)) files that are not .png, .pgm or .ppm were not read (\(kinds.joined(separator: ", ")))")
        }
        let counts = r.images.classCounts(classes: r.classes.count)
        let perClass = zip(r.classes, counts).map { "\($0) \($1)" }.joined(separator: ", ")
        say("\(r.directory): \(r.images.count) images in \(r.classes.count) classes (\(perClass)); \(options.fit); \(how)")
        if !r.problems.isEmpty {
            let sized = r.problems.filter { $0.message.hasPrefix("image is ") && $0.message.contains("the model expects") }.count
            say("\(r.problems.count) file\(r.problems.count == 1 ? "" : "s") could not be used" + (sized > 0 ? " (\(sized) for their size: see --resize and --crop)" : ""))
            if options.strict {
                throw DataError(file: r.directory, message: "\(r.problems.count) image file\(r.problems.count == 1 ? "" : "s") could not be used (listed above); --strict-images makes that an error")
            }
        }
        let empty = r.classes.indices.filter { counts[$0] == 0 }.map { c in
            "'\(r.classes[c])' (\(scan.missingClasses.contains(r.classes[c]) ? "no folder here" : "no usable images"))"
        }
        guard !empty.isEmpty else { return }
        if split == .train {
            throw DataError(file: r.directory, message: "class\(empty.count == 1 ? "" : "es") \(empty.joined(separator: ", ")) without training images; every class needs some")
        }
        say("note: \(r.directory): no images of class\(empty.count == 1 ? "" : "es") \(empty.joined(separator: ", "))")
    }
}
