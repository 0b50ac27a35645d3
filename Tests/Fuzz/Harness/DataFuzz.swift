// libFuzzer harness, targets inflate gzip idx npy npz csv numcsv png pgm ppm tar cifar hdf5: compiled with
// Sources/ModelcFuzz/DecoderFuzzEntry.swift against a sanitized build of ModelcData (see
// Tests/Fuzz/run.sh). The decoder is chosen by MODELC_FUZZ_KIND (one of DecoderFuzzEntry.kinds),
// which run.sh sets per target.
import Foundation

let fuzzKind: String = {
    let kind = ProcessInfo.processInfo.environment["MODELC_FUZZ_KIND"] ?? ""
    guard DecoderFuzzEntry.kinds.contains(kind) else {
        FileHandle.standardError.write("MODELC_FUZZ_KIND must be one of \(DecoderFuzzEntry.kinds), found '\(kind)'\n".data(using: .utf8)!)
        exit(2)
    }
    return kind
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func modelcFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    DecoderFuzzEntry.run(fuzzKind, bytes)
    return 0
}
