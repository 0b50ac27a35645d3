// libFuzzer harness, target "model": compiled with Sources/ModelcFuzz/FrontendFuzzEntry.swift
// against a sanitized build of ModelcCore (see Tests/Fuzz/run.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func modelcFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FrontendFuzzEntry.run(bytes)
    return 0
}
