// libFuzzer harness, target "kerasconfig": compiled with Sources/ModelcFuzz/KerasConfigFuzzEntry.swift
// against a sanitized build of ModelcData and ModelcCore (see Tests/Fuzz/run.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func modelcFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    KerasConfigFuzzEntry.run(bytes)
    return 0
}
